"""The confirmation layout tool: ``panel serve dashboards/confirm_layouts.py --basic-auth logins.json``
(or ``otclab dashboard confirm-layouts``). Operations upload one sample confirmation of a
counterparty's new layout, point each field at its label (and value), check the re-read fields and
save the annotation file, in the logged-in user's name (the operations group, from the hub or the
users file ``OTCLAB_USERS``). The page is ``otclab.dashboards.confirm_layouts_app``; layouts are
saved in ``$OTCLAB_CONFIRM_LAYOUTS`` (default ``~/.otclab/confirm/layouts``), each save recorded
in its ``history.jsonl``."""
import panel as pn

from otclab.access import local_identity
from otclab.dashboards.confirm_layouts_app import LayoutToolPage
from otclab.hub.identity import panel_identity

user = pn.state.user
identity = panel_identity() or (local_identity(user) if user else None)
LayoutToolPage(identity=identity).servable()
