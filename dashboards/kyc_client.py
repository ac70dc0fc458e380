"""The client's KYC form: ``panel serve dashboards/kyc_client.py --basic-auth logins.json --args
--store URL`` (or ``otclab dashboard kyc-client``). An invited institution's contact logs in,
redeems the invitation code, fills the institution, financials, questionnaire and documents steps
(each field checked as it is typed) and submits the case for review; once it is approved, the
client signs the agreements there (an event certificate per signature). The page is
``otclab.dashboards.kyc_client_app``; the store is ``--store URL`` after ``--args``, else
``OTCLAB_STORE_URL``, else the default store."""
import sys

import panel as pn

from otclab.dashboards.kyc_client_app import KycClientPage
from otclab.dashboards.quotes import store_url
from otclab.store.db import open_store

KycClientPage(open_store(store_url(sys.argv[1:])), pn.state.user).servable()
