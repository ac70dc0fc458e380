"""The KYC reviewers' page: ``panel serve dashboards/kyc_review.py --basic-auth logins.json --args
--store URL`` (or ``otclab dashboard kyc-review``). A reviewer of sales, operations, compliance or
risk (their groups from the users file, ``OTCLAB_USERS`` or ``$OTCLAB_DATA/users.toml``) sees the
cases waiting for that step (behind JupyterHub: the hub's groups), what the role checks first, and approves, returns or rejects each
in their own name. The page is ``otclab.dashboards.kyc_review_app``; the store as for the other
apps (``--store URL`` after ``--args``, else ``OTCLAB_STORE_URL``, else the default store)."""
import os
import sys

import panel as pn

from otclab.access import local_identity
from otclab.dashboards.kyc_review_app import KycReviewPage
from otclab.dashboards.quotes import store_url
from otclab.hub.identity import panel_identity
from otclab.store.db import open_store

# behind the hub: the hub's user, groups and scopes; standalone: the login and the users file
user = pn.state.user
identity = panel_identity() or (local_identity(user) if user else None)
KycReviewPage(open_store(store_url(sys.argv[1:])), identity,
              poll_s=float(os.environ.get("OTCLAB_KYC_POLL", "2"))).start().servable()
