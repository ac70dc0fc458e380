"""The hub's users and their groups: the demo logins (one or two per group, generated passwords kept
in the hub folder) and the users file (``otclab.access.users_file``: ``[users.NAME] groups = [...]``)
that the hub reads each user's groups from at every login, the same mapping the command line uses.
"""
from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from ..access import GROUPS, local_users, users_file
from ..core.errors import OtcError
from .paths import logins_file

#: The demo users: name -> groups (two traders, so that four-eyes approvals can be shown).
DEMO_USERS = {
    "quinn": ["quant"],
    "tara": ["trader"],
    "tom": ["trader"],
    "sam": ["sales"],
    "rita": ["risk"],
    "otto": ["operations"],
    "cora": ["compliance"],
}
#: The hub's administrator (approves sign-ups at /hub/authorize); holds no desk group.
ADMIN = "admin"


def _write_private(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def ensure(path: Path | None = None, users: Path | None = None) -> dict[str, dict]:
    """The demo logins, created on first use: ``{name: {"password": ..., "groups": [...]}}`` with a
    random password each (``secrets``), stored in the hub folder (mode 0600); every demo user is
    added to the users file (``users``, default ``otclab.access.users_file``) with its groups
    (users already there keep theirs)."""
    path = Path(path) if path else logins_file()
    logins = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    changed = False
    for name, groups in {ADMIN: [], **DEMO_USERS}.items():
        if name not in logins:
            logins[name] = {"password": secrets.token_urlsafe(10), "groups": groups}
            changed = True
    if changed:
        _write_private(path, json.dumps(logins, indent=1, ensure_ascii=False))
    add_users({n: v["groups"] for n, v in logins.items() if v["groups"]}, users)
    return logins


def add_users(users: dict[str, list[str]], path: Path | None = None) -> None:
    """Add users with their groups to the users file (a user already there keeps its groups)."""
    path = Path(path) if path else users_file()
    for name, groups in users.items():
        bad = sorted(set(groups) - set(GROUPS))
        if bad:
            raise OtcError(f"unknown group(s) {', '.join(bad)} for user {name!r}; allowed: {', '.join(GROUPS)}",
                           "groups")
    have = local_users(path)
    new = {n: g for n, g in users.items() if n not in have}
    if not new:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    lines = [old.rstrip("\n")] if old.strip() else []
    for name, groups in new.items():
        lines.append(f"\n[users.{json.dumps(name)}]\ngroups = {json.dumps(sorted(groups))}")
    _write_private(path, "\n".join(lines).lstrip("\n") + "\n")


def groups_of(name: str) -> list[str]:
    """The groups of ``name`` in the users file ([] for a user not in it)."""
    ident = local_users().get(name)
    return sorted(ident.groups) if ident else []


def table(logins: dict[str, dict]) -> str:
    """The demo logins as lines to print: group, user, password."""
    rows = [(", ".join(v["groups"]) or "hub admin", n, v["password"]) for n, v in logins.items()]
    w = max(len(r[0]) for r in rows)
    u = max(len(r[1]) for r in rows)
    return "\n".join(f"  {g:<{w}}  {n:<{u}}  {p}" for g, n, p in rows)
