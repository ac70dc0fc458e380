"""The client master: each counterparty's onboarding status, C-level, last review and document
validity, as booking and quoting check it.

Rows are appended (an approved case, an import of clients onboarded before the platform, a
suspension); the latest row per counterparty is its status. A client may trade a product when
its status is approved, it meets the OTC-option counterparty standard, its annual review is not
lapsed, its identity documents have not expired, a client onboarded through a case has signed
every required agreement of that case (``agreements.py``; clients imported from a list were
onboarded on paper and have none to sign), and its C-level is at least the product's risk level
(rules.toml ``[products]``: every OTC option is R5, so only C5 clients may trade them).

``check_counterparties`` answers for a whole booking batch with one query (the latest row of
every counterparty named, with its case's signed agreements), and ``require_onboarded`` raises the first refusal; booking
(``otclab.workflows.trades.book``) and quote pricing (``otclab.workflows.quotes``) call it for every
store. Clients onboarded before the platform are brought in with ``import_clients`` (CLI
``otclab kyc import clients.csv``), recorded with who imported them, in the evidence log.
"""
from __future__ import annotations

import csv
import datetime as dt
import io

from sqlalchemy import func, insert, select

from ..core.errors import OtcError
from ..store import tables_kyc as T
from ..store.db import now
from .model import Status
from .rules import product_level, product_rule, review_due, rules

STATUSES = ("approved", "suspended", "rejected", "closed")


class OnboardingRefused(OtcError):
    """A trade or quote for a counterparty that may not trade that product now."""


def _latest(conn, ids: list[str]) -> dict:
    """The latest client-master row of each counterparty in ``ids``, with ``signed_agreements``:
    the kinds of its case's agreements signed so far (comma-separated; None for a row without a
    case), in the same query."""
    c, a = T.kyc_clients, T.kyc_agreements
    signed = (select(func.aggregate_strings(a.c.kind, ","))
              .where(a.c.case_id == c.c.case_id, a.c.state == "signed").scalar_subquery())
    out = {}
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        last = select(func.max(c.c.id)).where(c.c.counterparty_id.in_(chunk)).group_by(c.c.counterparty_id)
        for r in conn.execute(select(c, signed.label("signed_agreements")).where(c.c.id.in_(last.scalar_subquery()))):
            out[r.counterparty_id] = r
    return out


def _unsigned(row) -> list[str]:
    """The titles of the required agreements a case-onboarded client has not signed yet (a client
    imported from a list, onboarded on paper before the platform, has none to sign)."""
    if row.source != "case" or not row.case_id:
        return []
    from .agreements import definitions

    done = set((getattr(row, "signed_agreements", None) or "").split(","))
    return [d["title"] for d in definitions() if d["required"] and d["kind"] not in done]


def _status(cp: str, row, today: dt.date) -> Status:
    if row is None:
        return Status(cp, "unknown", None, False, None, None, None, False,
                      f"counterparty {cp} is not onboarded (no approved KYC case; clients onboarded before the "
                      "platform are imported with `otclab kyc import`)")
    due = review_due(row.review_date)
    reason = None
    status = row.status
    if row.status != "approved":
        reason = f"counterparty {cp} ({row.name}) is {row.status}" + (f": {row.reason}" if row.reason else "")
    elif not row.eligible_otc:
        reason = (f"counterparty {cp} ({row.name}) does not meet the OTC-option counterparty standard "
                  f"({rules()['otc_counterparty']['legal_entity']['rule']})")
    elif due < today:
        status = "suspended"
        reason = (f"counterparty {cp} ({row.name}) is suspended: its annual KYC review lapsed on {due} "
                  f"(last review {row.review_date}; {rules()['review']['rule']})")
    elif row.docs_valid_until is not None and row.docs_valid_until < today:
        status = "suspended"
        reason = (f"counterparty {cp} ({row.name}) is suspended: an identity document expired on "
                  f"{row.docs_valid_until} ({rules()['review']['rule']})")
    elif todo := _unsigned(row):
        reason = (f"counterparty {cp} ({row.name}) has not signed {'、'.join(todo)} of KYC case {row.case_id}: "
                  f"the client signs them in its KYC page (协议签署 Agreements), or `otclab kyc agreements sign "
                  f"{row.case_id} --key FILE`")
    return Status(cp, status, row.c_level, bool(row.eligible_otc), due, row.docs_valid_until, row.max_premium,
                  reason is None, reason, row.name)


def client_status(conn, counterparty: str, today: dt.date | None = None) -> Status:
    """The onboarding status of one counterparty (by the desk's counterparty id)."""
    return _status(counterparty, _latest(conn, [counterparty]).get(counterparty), today or dt.date.today())


def _item(it):
    """(counterparty id, product template, premium, USCC or None) from a TradeRecord, a dict or a
    tuple (id, template[, premium[, uscc]])."""
    if isinstance(it, (tuple, list)):
        return (it[0], it[1] if len(it) > 1 else None, it[2] if len(it) > 2 else None,
                it[3] if len(it) > 3 else None)
    if isinstance(it, dict):
        cp = it.get("counterparty")
        uscc = cp.get("uscc") if isinstance(cp, dict) else it.get("counterparty_uscc")
        cp = cp.get("id") if isinstance(cp, dict) else (it.get("counterparty_id") or cp)
        return cp, it.get("template") or it.get("product"), it.get("premium"), uscc
    cp = getattr(it, "counterparty", None)
    return getattr(cp, "id", cp), getattr(it, "template", None), getattr(it, "premium", None), getattr(cp, "uscc", None)


def check_counterparties(conn, items, today: dt.date | None = None) -> list[str | None]:
    """For each booking item (a ``TradeRecord``, a dict with counterparty/template/premium, or a
    tuple (counterparty id, template[, premium[, uscc]])): None when the counterparty may trade
    it, else the refusal naming the counterparty and the reason (a USCC that differs from the
    onboarded one is refused too). One query for the whole batch."""
    today = today or dt.date.today()
    parsed = [_item(i) for i in items]
    latest = _latest(conn, sorted({p[0] for p in parsed if p[0]}))
    statuses: dict = {}
    out = []
    for cp, product, premium, uscc in parsed:
        st = statuses.get(cp)
        if st is None:
            st = statuses[cp] = _status(cp, latest.get(cp), today)
        if not st.tradable:
            out.append(st.reason)
            continue
        known = latest[cp].uscc
        if uscc and known and uscc.strip().upper() != known.upper():
            out.append(f"counterparty {cp} ({st.name}) is onboarded with USCC {known}, the trade names {uscc}")
            continue
        need = product_level(product)
        if (st.c_level or 0) < need:
            out.append(f"counterparty {cp} ({st.name}) is C{st.c_level}; {product or 'the product'} is an R{need} "
                       f"product and needs C{need} or above ({product_rule()})")
            continue
        if st.max_premium is not None and premium is not None and abs(premium) > st.max_premium:
            out.append(f"counterparty {cp} ({st.name}): premium {abs(premium):,.0f} CNY is over 30% of the product's "
                       f"assets ({st.max_premium:,.0f} CNY; {rules()['otc_counterparty']['asset_product']['rule']})")
            continue
        out.append(None)
    return out


def require_onboarded(conn, items, action: str = "book") -> None:
    """Raise ``OnboardingRefused`` for the first item whose counterparty may not trade it."""
    items = list(items)
    refusals = check_counterparties(conn, items)
    bad = [(i, r) for i, r in enumerate(refusals) if r]
    if bad:
        i, reason = bad[0]
        more = f" ({len(bad) - 1} more refused)" if len(bad) > 1 else ""
        field = f"trades[{i}].counterparty" if len(items) > 1 else "counterparty"
        raise OnboardingRefused(f"cannot {action}: {reason}{more}", field)


def record_client(conn, *, counterparty_id: str, name: str, uscc: str | None, status: str, c_level: int,
                  eligible_otc: bool, review_date: dt.date, docs_valid_until: dt.date | None, source: str,
                  recorded_by: str, case_id: str | None = None, max_premium: float | None = None,
                  reason: str | None = None) -> int:
    return conn.execute(insert(T.kyc_clients).values(
        counterparty_id=counterparty_id, name=name, uscc=uscc, status=status, c_level=int(c_level),
        eligible_otc=1 if eligible_otc else 0, review_date=review_date, docs_valid_until=docs_valid_until,
        max_premium=max_premium, case_id=case_id, source=source, reason=reason, recorded_by=recorded_by,
        recorded_at=now())).inserted_primary_key[0]


IMPORT_COLUMNS = ("counterparty_id", "name", "uscc", "status", "c_level", "review_date", "docs_valid_until",
                  "eligible_otc")


def parse_import(text: str) -> list[dict]:
    """Rows of a client-master CSV: counterparty_id, name, status (approved | suspended | rejected
    | closed), c_level (C1..C5 or 1..5), review_date (YYYY-MM-DD, the last KYC review) required;
    uscc, docs_valid_until, eligible_otc (yes/no, default yes) optional. Every row is checked;
    an error names the line and column."""
    from .fields import check_field, parse_date

    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in ("counterparty_id", "name", "status", "c_level", "review_date")
               if c not in (reader.fieldnames or [])]
    if missing:
        raise OtcError(f"the CSV needs the columns {', '.join(missing)} (have {', '.join(reader.fieldnames or [])})",
                       "clients.csv")
    rows, seen = [], set()
    from ..store.record import TRADE_ID_RE

    for ln, r in enumerate(reader, 2):
        where = f"clients.csv line {ln}"
        cp = (r.get("counterparty_id") or "").strip()
        if not TRADE_ID_RE.match(cp):
            raise OtcError(f"counterparty_id must be 1-64 letters, digits, '.', '_' or '-'; got {cp!r}", where)
        if cp in seen:
            raise OtcError(f"counterparty {cp} appears twice", where)
        seen.add(cp)
        name = (r.get("name") or "").strip()
        if not name:
            raise OtcError("name is required", where)
        status = (r.get("status") or "").strip().lower()
        if status not in STATUSES:
            raise OtcError(f"status must be one of {', '.join(STATUSES)}; got {status!r}", where)
        lv = (r.get("c_level") or "").strip().upper().lstrip("C")
        if lv not in {"1", "2", "3", "4", "5"}:
            raise OtcError(f"c_level must be C1..C5; got {r.get('c_level')!r}", where)
        try:
            review = parse_date(r.get("review_date"))
        except (ValueError, TypeError):
            raise OtcError(f"review_date must be YYYY-MM-DD; got {r.get('review_date')!r}", where) from None
        docs = (r.get("docs_valid_until") or "").strip()
        try:
            docs_d = parse_date(docs) if docs else None
        except ValueError:
            raise OtcError(f"docs_valid_until must be YYYY-MM-DD; got {docs!r}", where) from None
        uscc = (r.get("uscc") or "").strip() or None
        if uscc:
            chk = check_field("uscc", uscc)
            if chk.level == "error":
                raise OtcError(f"uscc {uscc}: {chk.message}", where)
        elig = (r.get("eligible_otc") or "yes").strip().lower()
        if elig not in {"yes", "no", "true", "false", "1", "0", "y", "n"}:
            raise OtcError(f"eligible_otc must be yes or no; got {elig!r}", where)
        rows.append({"counterparty_id": cp, "name": name, "uscc": uscc, "status": status, "c_level": int(lv),
                     "review_date": review, "docs_valid_until": docs_d,
                     "eligible_otc": elig in {"yes", "true", "1", "y"}})
    if not rows:
        raise OtcError("no client rows", "clients.csv")
    return rows


def import_clients(store, rows, by: str, source_name: str = "clients.csv") -> int:
    """Record clients onboarded before the platform (``parse_import`` rows, or CSV text) in the
    client master, with who imported them; each import is one event in the evidence log.
    Returns how many were recorded."""
    from .evidence import append_entry

    if isinstance(rows, str):
        rows = parse_import(rows)
    if not by or not str(by).strip():
        raise OtcError("is required (who imports the clients)", "by")
    with store.begin() as conn:
        for r in rows:
            record_client(conn, source="import", recorded_by=by, reason=f"imported from {source_name}", **r)
    append_entry(store, "kyc.import", {"by": by, "source": source_name, "at": now().isoformat(),
                                        "clients": [{**r, "review_date": r["review_date"].isoformat(),
                                                     "docs_valid_until": r["docs_valid_until"].isoformat()
                                                     if r["docs_valid_until"] else None} for r in rows]})
    return len(rows)


def suspend(store, counterparty_id: str, reason: str, by: str) -> Status:
    """Suspend new trading with a counterparty (a new client-master row); logged as evidence."""
    from .evidence import append_entry

    if not reason or not reason.strip():
        raise OtcError("is required (why the client is suspended)", "reason")
    with store.begin() as conn:
        row = _latest(conn, [counterparty_id]).get(counterparty_id)
        if row is None:
            raise OtcError(f"no client {counterparty_id} in the client master", "counterparty_id")
        record_client(conn, counterparty_id=row.counterparty_id, name=row.name, uscc=row.uscc, status="suspended",
                      c_level=row.c_level, eligible_otc=bool(row.eligible_otc), review_date=row.review_date,
                      docs_valid_until=row.docs_valid_until, max_premium=row.max_premium, case_id=row.case_id,
                      source="suspend", reason=reason.strip(), recorded_by=by)
        st = client_status(conn, counterparty_id)
    append_entry(store, "kyc.client", {"counterparty_id": counterparty_id, "status": "suspended", "reason": reason,
                                        "by": by, "at": now().isoformat()})
    return st


def clients(conn) -> list[Status]:
    """Every counterparty of the client master with its current status."""
    ids = [x for (x,) in conn.execute(select(T.kyc_clients.c.counterparty_id).distinct())]
    latest = _latest(conn, ids)
    today = dt.date.today()
    return [_status(cp, latest[cp], today) for cp in sorted(latest)]
