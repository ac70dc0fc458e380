"""The confirmation layout tool: ``panel serve dashboards/confirm_layouts.py`` (or ``otclab dashboard
confirm-layouts``). Operations upload one sample confirmation of a counterparty's new layout, point
each field at its label (and value), check the re-read fields and save the annotation file. The
page is ``otclab.dashboards.confirm_layouts_app``; layouts are saved in ``$OTCLAB_CONFIRM_LAYOUTS``
(default ``~/.otclab/confirm/layouts``)."""
from otclab.dashboards.confirm_layouts_app import LayoutToolPage

LayoutToolPage().servable()
