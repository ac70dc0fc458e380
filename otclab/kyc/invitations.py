"""Invitations: sales' whitelist of institutions that may open a KYC case.

The code (16 random characters, shown once) is stored only as its SHA-256; it is single use
(redeeming it binds a new draft case to the redeeming user name, in the same transaction that
marks it redeemed, guarded by ``redeemed_at IS NULL``) and expires after ``valid_days``.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import insert, select, update

from ..core.errors import OtcError
from ..store import tables_kyc as T
from ..store.db import now
from .evidence import add_event, catch_up
from .fields import check_field
from .model import Invitation

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"   # no 0/O, 1/I: read over the phone


class InvitationError(OtcError):
    """An invitation code that is unknown, already used or expired."""


def code_hash(code: str) -> str:
    return hashlib.sha256(code.strip().upper().replace("-", "").encode("ascii", "ignore")).hexdigest()


def _text(value, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise OtcError("is required", field)
    if len(value) > 200:
        raise OtcError("at most 200 characters", field)
    return value.strip()


def invite(store, *, institution: str, uscc: str, contact_name: str, contact: str, invited_by: str,
           valid_days: int = 14, counterparty_id: str | None = None) -> Invitation:
    """Invite an institution. ``counterparty_id`` is the desk's id the client will trade under
    (default: its USCC). The returned ``code`` is the only copy of the code."""
    from ..store.record import TRADE_ID_RE
    from stdnum.cn import uscc as uscc_mod

    institution = _text(institution, "institution")
    contact_name, contact = _text(contact_name, "contact_name"), _text(contact, "contact")
    invited_by = _text(invited_by, "invited_by")
    chk = check_field("uscc", uscc)
    if chk.level == "error":
        raise OtcError(chk.message, "uscc")
    u = uscc_mod.compact(uscc)
    cp = (counterparty_id or u).strip()
    if not TRADE_ID_RE.match(cp):
        raise OtcError(f"must be 1-64 letters, digits, '.', '_' or '-'; got {cp!r}", "counterparty_id")
    if not isinstance(valid_days, int) or not 1 <= valid_days <= 90:
        raise OtcError(f"must be a whole number of days from 1 to 90; got {valid_days!r}", "valid_days")
    code = "".join(secrets.choice(ALPHABET) for _ in range(16))
    inv_id = "INV-" + secrets.token_hex(6).upper()
    ts = now()
    expires = ts + dt.timedelta(days=valid_days)
    with store.begin() as conn:
        conn.execute(insert(T.kyc_invitations).values(
            invitation_id=inv_id, code_hash=code_hash(code), institution=institution, uscc=u, counterparty_id=cp,
            contact_name=contact_name, contact=contact, invited_by=invited_by, created_at=ts, expires_at=expires))
    return Invitation(inv_id, f"{code[:4]}-{code[4:8]}-{code[8:12]}-{code[12:]}", institution, u, cp, contact_name,
                      contact, invited_by, expires)


def redeem(store, code: str, username: str) -> str:
    """Open the case of the invitation ``code`` for ``username``; returns the case id. Refuses an
    unknown, used or expired code (and a user who already has a case) with the reason."""
    if not isinstance(username, str) or not username.strip():
        raise OtcError("is required (the client's login name)", "username")
    username = username.strip()
    h = code_hash(code or "")
    inv = T.kyc_invitations
    with store.begin() as conn:
        row = conn.execute(select(inv).where(inv.c.code_hash == h)).first()
        if row is None:
            raise InvitationError("unknown invitation code (check it, or ask your sales contact for a new one)", "code")
        if row.redeemed_at is not None:
            raise InvitationError(f"this invitation code was already used on {row.redeemed_at:%Y-%m-%d %H:%M} UTC; "
                                  "a code works once (ask your sales contact for a new one)", "code")
        if row.expires_at <= now():
            raise InvitationError(f"this invitation code expired on {row.expires_at:%Y-%m-%d %H:%M} UTC "
                                  "(ask your sales contact for a new one)", "code")
        if conn.execute(select(T.kyc_cases.c.case_id).where(T.kyc_cases.c.username == username)).first():
            raise InvitationError(f"user {username!r} already has a KYC case", "username")
        case_id = "KYC-" + secrets.token_hex(5).upper()
        done = conn.execute(update(inv).where(inv.c.invitation_id == row.invitation_id, inv.c.redeemed_at.is_(None))
                            .values(redeemed_at=now(), redeemed_by=username, case_id=case_id)).rowcount
        if done != 1:
            raise InvitationError("this invitation code was just used by someone else", "code")
        conn.execute(insert(T.kyc_cases).values(
            case_id=case_id, invitation_id=row.invitation_id, username=username, institution=row.institution,
            uscc=row.uscc, counterparty_id=row.counterparty_id, invited_by=row.invited_by, state="draft",
            created_at=now()))
        add_event(conn, case_id, "opened", username, "draft",
                  details={"invitation_id": row.invitation_id, "invited_by": row.invited_by})
    catch_up(store)
    return case_id


def case_for_user(store, username: str) -> str | None:
    """The case id bound to ``username``, or None."""
    with store.connect() as conn:
        return conn.execute(select(T.kyc_cases.c.case_id).where(T.kyc_cases.c.username == username)).scalar()
