"""Mail settings and who gets mail, from one TOML file.

The file is ``OTCLAB_MAIL_CONFIG``, else ``<data folder>/mail.toml`` (the data folder:
``OTCLAB_DATA``, default ``~/.otclab``)::

    [smtp]
    host = "smtp.example.com"     # required to send
    port = 587                    # default 25
    from = "otclab@example.com"   # required to send
    starttls = true               # default false
    user = "otclab"               # optional: log in (AUTH) as this user ...
    password_env = "OTCLAB_SMTP_PASSWORD"   # ... with the password in this variable
    timeout_s = 10

    [queue]
    backoff_s = 30                # the first retry after this long, doubling up to max_backoff_s
    max_backoff_s = 1800
    lease_s = 300                 # a claim older than this (a sender that died) is taken over

    [addresses]
    operations = "ops@example.com"   # breaks that name no trader
    zhang.san = "zhang.san@example.com"

A trader's address is looked up by the user name that booked the trade
(``trade_versions.recorded_by``, else the record's ``trader``): ``[addresses]`` first, then
``email`` of ``[users.NAME]`` in the users file (``otclab.access.users_file()``).
"""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from ..core.errors import InputError


@dataclass(frozen=True)
class SmtpSettings:
    host: str | None = None
    port: int = 25
    sender: str | None = None
    starttls: bool = False
    user: str | None = None
    password: str | None = None
    timeout_s: float = 10.0


@dataclass(frozen=True)
class MailConfig:
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    backoff_s: float = 30.0
    max_backoff_s: float = 1800.0
    lease_s: float = 300.0
    addresses: dict = field(default_factory=dict)
    users_file: Path | None = None

    def address_of(self, user: str | None) -> str | None:
        """The e-mail address of a user name (see the module doc); None when none is known."""
        if not user:
            return None
        if user in self.addresses:
            return self.addresses[user]
        from ..access import users_file

        path = self.users_file or users_file()
        if not path.exists():
            return None
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as e:
            raise InputError(f"{path}: not valid TOML: {e}", "users") from None
        spec = (data.get("users") or {}).get(user)
        email = spec.get("email") if isinstance(spec, dict) else None
        return email if isinstance(email, str) and "@" in email else None

    @property
    def operations(self) -> str | None:
        return self.addresses.get("operations")


def config_path() -> Path:
    from ..store.db import data_dir

    return Path(os.environ.get("OTCLAB_MAIL_CONFIG") or data_dir() / "mail.toml")


def _num(d: dict, key: str, default, where: str, kind=float, low=0.0):
    v = d.get(key, default)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not v > low or v != v:
        raise InputError(f"must be a number above {low:g}; got {v!r}", f"{where}.{key}")
    return kind(v)


def from_dict(data: dict, where: str = "mail") -> MailConfig:
    """Checked settings from the file's content; a wrong value names its key."""
    smtp = data.get("smtp") or {}
    queue = data.get("queue") or {}
    addresses = data.get("addresses") or {}
    for name, sect in (("smtp", smtp), ("queue", queue), ("addresses", addresses)):
        if not isinstance(sect, dict):
            raise InputError("must be a table", f"{where}.{name}")
    unknown = sorted(set(smtp) - {"host", "port", "from", "starttls", "user", "password_env", "timeout_s"})
    if unknown:
        raise InputError(f"unknown key(s) {unknown}; allowed: host, port, from, starttls, user, password_env, "
                         "timeout_s", f"{where}.smtp")
    port = _num(smtp, "port", 25, f"{where}.smtp", int)
    if port > 65535:
        raise InputError(f"must be a port number 1-65535; got {port}", f"{where}.smtp.port")
    password = None
    if smtp.get("password_env"):
        password = os.environ.get(str(smtp["password_env"]))
        if password is None:
            raise InputError(f"the variable {smtp['password_env']} holding the SMTP password is not set",
                             f"{where}.smtp.password_env")
    for k, v in addresses.items():
        if not isinstance(v, str) or "@" not in v:
            raise InputError(f"must be an e-mail address; got {v!r}", f"{where}.addresses.{k}")
    settings = SmtpSettings(host=smtp.get("host"), port=port, sender=smtp.get("from"),
                            starttls=bool(smtp.get("starttls", False)), user=smtp.get("user"), password=password,
                            timeout_s=_num(smtp, "timeout_s", 10.0, f"{where}.smtp"))
    return MailConfig(settings, _num(queue, "backoff_s", 30.0, f"{where}.queue"),
                      _num(queue, "max_backoff_s", 1800.0, f"{where}.queue"),
                      _num(queue, "lease_s", 300.0, f"{where}.queue"), dict(addresses))


def load_config(path: str | Path | None = None) -> MailConfig:
    """The mail settings (defaults: no SMTP server, so mail is queued and waits for one)."""
    p = Path(path) if path else config_path()
    if not p.exists():
        if path:
            raise InputError(f"file not found: {p}", "mail_config")
        return MailConfig()
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise InputError(f"{p}: not valid TOML: {e}", "mail_config") from None
    return from_dict(data, p.name)
