"""The check booking and quoting make: only an approved template version is used for new business."""
from __future__ import annotations

from .registry import state_of
from .states import TemplateNotApproved


def require_approved(conn, name: str, version: str, action: str = "book") -> None:
    """Raise ``TemplateNotApproved`` (field ``template_version``) unless ``name`` at ``version``
    is approved in this store or shipped approved (``payoffs/approved.json``); ``action`` is what
    was tried ("book", "quote"). The message names the template, the version and its state."""
    state, _ = state_of(conn, name, version)
    if state != "approved":
        step = {"draft": f"validate it (otclab payoffs validate {name}), then risk control compares and approves it",
                "validated": f"risk control compares and approves it (otclab payoffs approve {name} {version})",
                "retired": "it was retired; use an approved version"}[state]
        raise TemplateNotApproved(f"template {name} version {version} is {state}, not approved: it cannot be "
                                  f"used to {action} ({step}; otclab payoffs status)", "template_version")
