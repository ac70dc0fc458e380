"""The states of a template version and the transitions allowed between them."""
from __future__ import annotations

from ..core.errors import OtcError

STATES = ("draft", "validated", "approved", "retired")

#: state → the states it may move to (an event appends the new state; nothing is updated in place)
TRANSITIONS = {
    None: {"draft"},
    "draft": {"validated", "retired"},
    "validated": {"approved", "retired"},
    "approved": {"retired"},
    "retired": set(),
}

#: triggers of a validation run that are not a person
MACHINE_TRIGGERS = ("schedule", "file-change")


class GovernanceError(OtcError):
    """A governance step the state of the version does not allow (the message says which and why)."""


class TemplateNotApproved(OtcError):
    """A booking or quote named a template version that is not approved."""


def check_transition(name: str, version: str, current: str | None, new: str) -> None:
    """Raise ``GovernanceError`` unless ``current`` → ``new`` is allowed."""
    if new not in TRANSITIONS.get(current, set()):
        allowed = sorted(TRANSITIONS.get(current, set())) or ["none (final)"]
        raise GovernanceError(f"template {name} version {version} is {current or 'unregistered'}; it cannot become "
                              f"{new} (from {current or 'unregistered'}: {', '.join(allowed)})", "state")


def is_person(trigger: str | None) -> bool:
    return bool(trigger) and trigger not in MACHINE_TRIGGERS
