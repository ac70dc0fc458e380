"""The quote-review app: ``panel serve dashboards/quotes.py --basic-auth creds.json --cookie-secret S
--args --store URL`` (or ``otclab dashboard quotes``). Traders see the live blotter of chat quote
requests, review the parsed fields and the model price, edit, approve, reject and book what the
client accepted, each decision in the name of the logged-in user. Behind the hub
(``deploy/jupyterhub_config.py``) the user is the hub's, and decisions need the quote-approve scope. The page is
``otclab.dashboards.quotes_app``; the store is ``--store URL`` after ``--args``, else
``OTCLAB_STORE_URL``, else the default store."""
import os
import sys

import panel as pn

from otclab.dashboards.quotes import store_url
from otclab.dashboards.quotes_app import QuoteReviewPage
from otclab.hub.identity import panel_identity, under_hub
from otclab.store.db import open_store

identity = panel_identity()      # behind the hub: the hub user, with the scopes of their roles
# behind the hub without an identity nobody may decide (never the cookie's name without its scopes)
user = identity.name if identity else (None if under_hub() else pn.state.user)
page = QuoteReviewPage(open_store(store_url(sys.argv[1:])), user,
                       poll_s=float(os.environ.get("OTCLAB_QUOTES_POLL", "1")), identity=identity)
page.start().servable()
