"""The operations view of confirmation breaks: ``panel serve dashboards/confirm_breaks.py
--basic-auth logins.json --args --store URL`` (or ``otclab dashboard confirm-breaks``). The
breaks, the fields that differ with both values, the document, accept / resolve with a comment in
the user's name (the operations group, from the users file ``OTCLAB_USERS`` or the hub). The page
is ``otclab.dashboards.confirm_breaks_app``; documents from ``OTCLAB_CONFIRM_DOCUMENTS``."""
import sys

import panel as pn

from otclab.access import local_identity
from otclab.dashboards.confirm_breaks_app import ConfirmBreaksPage
from otclab.dashboards.quotes import store_url
from otclab.store.db import open_store

try:  # behind JupyterHub: the hub's user and groups
    from otclab.hub.identity import panel_identity
except ImportError:
    def panel_identity():
        return None

user = pn.state.user
identity = panel_identity() or (local_identity(user) if user else None)
ConfirmBreaksPage(open_store(store_url(sys.argv[1:])), identity).servable()
