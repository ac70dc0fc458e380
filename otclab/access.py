"""Who may do what: the desk's groups, otclab's custom scopes, and the identity an app acts for.

One table of roles for every front end. JupyterHub (``deploy/jupyterhub_config.py``) creates its
groups and roles from ``GROUPS`` and ``GROUP_SCOPES``; an app behind the hub receives the user's
name, groups and scopes from the hub's OAuth (``Identity.from_hub``); an app or command run
without the hub reads the same mapping from a users file (TOML, ``[users.NAME] groups = [...]``,
default ``$OTCLAB_DATA/users.toml``) through ``local_identity``. Approvals and audit entries name
``Identity.name``; four-eyes checks compare it.
"""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .core.errors import OtcError

QUOTE_APPROVE = "custom:otclab:quote-approve"
TEMPLATE_APPROVE = "custom:otclab:template-approve"
KYC_REVIEW = "custom:otclab:kyc-review"

#: otclab's custom scopes (JupyterHub ``custom_scopes``: each needs a description).
SCOPES = {
    QUOTE_APPROVE: "approve, withdraw and book client quotes in the quote-review app",
    TEMPLATE_APPROVE: "approve a validated payoff template version for booking and quoting",
    KYC_REVIEW: "review KYC onboarding cases at the reviewer's own step",
}

#: The desk's groups and what each is for.
GROUPS = {
    "quant": "writes payoff templates in notebooks",
    "trader": "watches risk, reviews and approves quotes",
    "sales": "invites clients, first review of their onboarding",
    "risk": "validates and approves templates, reviews onboarding cases last",
    "operations": "confirmations, documents, onboarding document checks",
    "compliance": "suitability, screening and AML review of onboarding cases",
    "client": "an invited institution's contact: the KYC form only",
}

#: Custom scopes each group's role grants (besides the hub's own scopes, set in the hub config).
GROUP_SCOPES = {
    "quant": [],
    "trader": [QUOTE_APPROVE],
    "sales": [KYC_REVIEW],
    "risk": [TEMPLATE_APPROVE, KYC_REVIEW],
    "operations": [KYC_REVIEW],
    "compliance": [KYC_REVIEW],
    "client": [],
}


class AccessDenied(OtcError):
    """The user lacks the scope an action needs (the message names the user and the scope)."""

    exit_code = 3


@dataclass(frozen=True)
class Identity:
    """The person an app acts for: name (the hub or login user name), groups and scopes."""

    name: str
    groups: frozenset[str] = field(default_factory=frozenset)
    scopes: frozenset[str] = field(default_factory=frozenset)

    def has(self, scope: str) -> bool:
        return scope in self.scopes

    def require(self, scope: str, action: str) -> None:
        """Raise ``AccessDenied`` unless the user holds ``scope``; ``action`` says what was tried."""
        if scope not in self.scopes:
            holders = sorted(g for g, s in GROUP_SCOPES.items() if scope in s)
            raise AccessDenied(f"{self.name} may not {action}: it needs the scope {scope} "
                               f"(held by the groups {', '.join(holders) or 'none'})", "user")

    @classmethod
    def from_hub(cls, model: dict) -> "Identity":
        """From the hub's user model (``/hub/api/user`` with the token's ``scopes``): custom scopes
        the token carries, plus those of the user's groups."""
        groups = frozenset(model.get("groups") or [])
        scopes = set(model.get("scopes") or [])
        for g in groups:
            scopes.update(GROUP_SCOPES.get(g, []))
        return cls(str(model["name"]), groups, frozenset(scopes))

    @classmethod
    def of_groups(cls, name: str, groups) -> "Identity":
        gs = frozenset(groups)
        unknown = sorted(gs - set(GROUPS))
        if unknown:
            raise OtcError(f"unknown group(s) {', '.join(unknown)} for user {name!r}; "
                           f"allowed: {', '.join(GROUPS)}", "groups")
        return cls(name, gs, frozenset(s for g in gs for s in GROUP_SCOPES[g]))


def users_file() -> Path:
    from .store.db import data_dir

    return Path(os.environ.get("OTCLAB_USERS") or data_dir() / "users.toml")


def local_users(path: Path | None = None) -> dict[str, Identity]:
    """Every user of a users file (TOML ``[users.NAME] groups = [...]``); {} when there is none."""
    path = Path(path) if path else users_file()
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise OtcError(f"{path}: not valid TOML: {e}", "users") from None
    out = {}
    for name, spec in (data.get("users") or {}).items():
        if not isinstance(spec, dict) or not isinstance(spec.get("groups"), list):
            raise OtcError(f"{path}: users.{name} needs groups = [..] (one or more of {', '.join(GROUPS)})",
                           f"users.{name}.groups")
        out[name] = Identity.of_groups(name, spec["groups"])
    return out


def local_identity(name: str, path: Path | None = None) -> Identity:
    """The identity of ``name`` from the users file; a user not in it holds no group."""
    return local_users(path).get(name) or Identity(name)
