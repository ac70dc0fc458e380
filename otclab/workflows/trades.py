"""Booking, amending and cancelling trades: each command one transaction, nothing updated in place.

``book`` validates every trade first (template and pinned version, terms by the template's own
schema, direction, counterparty, dates, duplicates) and writes nothing if any is wrong. A booking
appends the trade's identity row, its version 1 and its premium cash flow. ``amend`` appends a
new version with changed terms or facts: an *amendment* changes the trade from now on (events
already recorded stand), a *correction* fixes a booking error (the lifecycle is replayed from the
start under the corrected version and the superseded cash flows are reversed). ``cancel``
appends a cancelling version and reverses the trade's cash flows.
"""
from __future__ import annotations

from sqlalchemy import func, insert, select

from ..core.calendar import sse_calendar
from ..core.dates import Date
from ..templates.context import resolve_maturity
from ..store import tables as T
from ..store import templates as tpl_store
from ..store.book import StoredTrade, business_date, load_book
from ..store.db import Store, now
from ..store.record import BookingError, TradeRecord, parse_record


def _version_row(rec: TradeRecord, version: int, action: str, recorded_by, reason, maturity: Date, ts) -> dict:
    return {"trade_id": rec.trade_id, "version": version, "action": action, "template": rec.template,
            "template_version": rec.template_version, "terms": rec.terms.to_json(), "direction": rec.direction,
            "counterparty_id": rec.counterparty.id, "counterparty_name": rec.counterparty.name,
            "counterparty_uscc": rec.counterparty.uscc, "counterparty_lei": rec.counterparty.lei, "trade_date": rec.trade_date, "premium": rec.premium,
            "premium_date": rec.premium_date or rec.start_date, "uti": rec.uti, "underlying": rec.underlying,
            "currency": rec.currency, "notional": rec.notional, "start_date": rec.start_date,
            "maturity_date": maturity, "trader": rec.trader, "recorded_by": recorded_by, "reason": reason,
            "recorded_at": ts}


def premium_cashflow(rec: TradeRecord, version_id: int, ts) -> dict | None:
    """The premium as a desk cash flow: the buyer pays it (the desk pays when it bought)."""
    if not rec.premium:
        return None
    pdate = rec.premium_date or rec.start_date
    return {"trade_id": rec.trade_id, "version_id": version_id, "event_id": None, "type": "premium",
            "event_date": rec.trade_date, "payment_date": pdate, "amount": -rec.sign * rec.premium,
            "currency": rec.currency, "reverses": None, "created_at": ts}


def parse_trades(conn, raws, as_of: Date | None = None) -> list[tuple[TradeRecord, Date]]:
    """Validate trades given as JSON data; (record, maturity) each, or an ``OtcError``."""
    if isinstance(raws, dict):
        raws = raws.get("trades", [raws]) if "trades" in raws else [raws]
    if not isinstance(raws, list) or not raws:
        raise BookingError("expected a trade object or a list of them", "trades")
    cal = sse_calendar()
    as_of = as_of or business_date(conn) or Date.today()
    cache: dict = {}

    def resolver(name, version):
        key = (name, version)
        if key not in cache:
            cache[key] = tpl_store.resolve(conn, name, version)
        return cache[key]

    out, seen = [], {}
    for i, raw in enumerate(raws):
        prefix = f"trades[{i}]" if len(raws) > 1 else "trade"
        rec = parse_record(raw, resolver, prefix)
        if rec.trade_id in seen:
            raise BookingError(f"duplicate trade id {rec.trade_id!r} (also trades[{seen[rec.trade_id]}])",
                               f"{prefix}.trade_id")
        seen[rec.trade_id] = i
        mat = resolve_maturity(rec.terms, cal).maturity_date
        if mat <= as_of:
            raise BookingError(f"the trade matured on {mat}, on or before the book's date {as_of}; "
                               f"nothing to book", f"{prefix}.terms.maturity_date")
        out.append((rec, mat))
    return out


def book(store: Store, raws, recorded_by: str | None = None, as_of: Date | None = None) -> list[TradeRecord]:
    """Book new trades (one transaction: all or none). Returns the booked records."""
    with store.begin() as conn:
        parsed = parse_trades(conn, raws, as_of)
        _require_approved(conn, {(r.template, r.template_version) for r, _ in parsed})
        ids = [r.trade_id for r, _ in parsed]
        utis = [r.uti for r, _ in parsed]
        taken = set()
        for chunk in range(0, len(ids), 500):
            taken |= {x for (x,) in conn.execute(select(T.trades.c.trade_id)
                                                 .where(T.trades.c.trade_id.in_(ids[chunk:chunk + 500])))}
        if taken:
            first = sorted(taken)[0]
            raise BookingError(f"trade {first!r} is already booked (amend it with `otclab trades amend`)"
                               + (f"; {len(taken) - 1} more already booked" if len(taken) > 1 else ""), "trade_id")
        dup_uti = set()
        for chunk in range(0, len(utis), 500):
            dup_uti |= {x for (x,) in conn.execute(select(T.trades.c.uti).where(T.trades.c.uti.in_(utis[chunk:chunk + 500])))}
        if dup_uti or len(set(utis)) != len(utis):
            u = sorted(dup_uti)[0] if dup_uti else next(u for u in utis if utis.count(u) > 1)
            raise BookingError(f"UTI {u!r} is already used by another trade", "uti")
        _require_onboarded(conn, [r for r, _ in parsed])
        ts = now()
        for tpl in {(r.template, r.template_version) for r, _ in parsed}:
            tpl_store.register(conn, tpl_store.resolve(conn, *tpl))
        conn.execute(insert(T.trades), [{"trade_id": r.trade_id, "uti": r.uti, "created_at": ts} for r, _ in parsed])
        conn.execute(insert(T.trade_versions),
                     [_version_row(r, 1, "new", recorded_by, None, m, ts) for r, m in parsed])
        vid = {}
        for chunk in range(0, len(ids), 500):
            vid.update(conn.execute(select(T.trade_versions.c.trade_id, T.trade_versions.c.id)
                                    .where(T.trade_versions.c.version == 1,
                                           T.trade_versions.c.trade_id.in_(ids[chunk:chunk + 500]))).all())
        flows = [f for f in (premium_cashflow(r, vid[r.trade_id], ts) for r, _ in parsed) if f]
        if flows:
            conn.execute(insert(T.cashflows), flows)
    return [r for r, _ in parsed]


def _require_approved(conn, versions) -> None:
    """New business only on approved template versions (template governance, otclab.governance)."""
    from ..governance.enforce import require_approved

    for name, version in sorted(versions):
        require_approved(conn, name, version, "book")


def _require_onboarded(conn, records) -> None:
    """New trades only with onboarded counterparties whose C-level fits the product (otclab.kyc):
    one query for the whole batch."""
    from ..kyc.clients import require_onboarded

    require_onboarded(conn, records, "book")


def _current(conn, trade_id: str) -> StoredTrade:
    found = load_book(conn, trade_ids=[trade_id])
    if not found:
        raise BookingError(f"no trade {trade_id!r} in the store", "trade_id")
    return found[0]


def effective_date(conn, trade_date: Date | None = None) -> Date:
    """When a change recorded now takes effect in the cash-flow ledger: the trading day after the
    book's business date (the last lifecycle run), or today before any run; never before the
    trade date."""
    bd = business_date(conn)
    d = sse_calendar().add_trading_days(bd, 1) if bd else Date.today()
    return max(d, trade_date) if trade_date else d


def _reverse_flows(conn, trade_id: str, version_id: int, ts, effective: Date) -> int:
    """Append a reversal of every cash flow of the trade not already reversed; returns how many."""
    cf = T.cashflows
    rows = conn.execute(select(cf).where(cf.c.trade_id == trade_id)).all()
    reversed_ids = {r.reverses for r in rows if r.reverses is not None}
    todo = [r for r in rows if r.reverses is None and r.id not in reversed_ids and r.type != "reversal"]
    if todo:
        conn.execute(insert(cf), [{"trade_id": trade_id, "version_id": version_id, "event_id": r.event_id,
                                   "type": "reversal", "event_date": effective, "payment_date": r.payment_date,
                                   "amount": -r.amount, "currency": r.currency, "reverses": r.id, "created_at": ts}
                                  for r in todo])
    return len(todo)


def amend(store: Store, trade_id: str, changes: dict, reason: str, correct: bool = False,
          recorded_by: str | None = None) -> TradeRecord:
    """Append a new version of ``trade_id`` with ``changes`` (``terms`` merged field by field, or
    other record fields). ``correct=True`` marks a correction of a booking error."""
    if not reason or not str(reason).strip():
        raise BookingError("say why (--reason): amendments and corrections are audited", "reason")
    if not isinstance(changes, dict) or not changes:
        raise BookingError("nothing to change; give terms or other fields", "changes")
    with store.begin() as conn:
        cur = _current(conn, trade_id)
        if cur.status == "cancelled":
            raise BookingError(f"trade {trade_id!r} is cancelled; nothing to amend", "trade_id")
        if cur.status != "live" and not correct:
            raise BookingError(f"trade {trade_id!r} is {cur.status}; only a correction (--correct) can change it",
                               "trade_id")
        raw = cur.record.to_dict()
        for k in ("status", "version"):
            raw.pop(k)
        for k, v in changes.items():
            if k == "terms":
                if not isinstance(v, dict):
                    raise BookingError("must be an object of term fields to change", "changes.terms")
                raw["terms"] = {**raw["terms"], **v}
            elif k == "counterparty" and isinstance(v, dict):
                raw["counterparty"] = {**raw["counterparty"], **v}
            elif k in ("trade_id", "uti"):
                raise BookingError(f"{k} cannot change (book a new trade and cancel this one)", f"changes.{k}")
            else:
                raw[k] = v
        if "template_version" not in changes:
            # the terms are validated by the pinned version unless the change names another
            raw["template_version"] = cur.record.template_version
        rec = parse_record(raw, lambda n, v: tpl_store.resolve(conn, n, v), "trade")
        if rec.template != cur.record.template:
            raise BookingError("the template cannot change; book a new trade", "changes.template")
        if rec.template_version != cur.record.template_version:     # moving a trade to new code
            _require_approved(conn, {(rec.template, rec.template_version)})
        def facts(r):
            return {k: v for k, v in r.to_dict().items() if k not in ("status", "version")}

        if facts(rec) == facts(cur.record):
            raise BookingError("the changes leave the trade as it is", "changes")
        tpl_store.register(conn, tpl_store.resolve(conn, rec.template, rec.template_version))
        version = cur.record.version + 1
        ts = now()
        mat = resolve_maturity(rec.terms, sse_calendar()).maturity_date
        action = "correct" if correct else "amend"
        res = conn.execute(insert(T.trade_versions).values(
            **_version_row(rec, version, action, recorded_by, reason, mat, ts)))
        vid = res.inserted_primary_key[0]
        if correct:
            eff = effective_date(conn, rec.trade_date)
            _reverse_flows(conn, trade_id, vid, ts, eff)
            flow = premium_cashflow(rec, vid, ts)
            if flow:
                conn.execute(insert(T.cashflows).values(**{**flow, "event_date": eff}))
        elif rec.premium != cur.record.premium or rec.direction != cur.record.direction:
            raise BookingError("premium and direction change only by a correction (--correct)", "changes")
    return rec.with_changes(version=version)


def cancel(store: Store, trade_id: str, reason: str, recorded_by: str | None = None) -> TradeRecord:
    """Append a cancelling version (the trade should never have been booked) and reverse its flows."""
    if not reason or not str(reason).strip():
        raise BookingError("say why (--reason): cancellations are audited", "reason")
    with store.begin() as conn:
        cur = _current(conn, trade_id)
        if cur.status == "cancelled":
            raise BookingError(f"trade {trade_id!r} is already cancelled", "trade_id")
        row = select(T.trade_versions).where(T.trade_versions.c.id == cur.version_id)
        last = conn.execute(row).one()._asdict()
        last.pop("id")
        ts = now()
        last.update(version=last["version"] + 1, action="cancel", recorded_by=recorded_by, reason=reason,
                    recorded_at=ts)
        vid = conn.execute(insert(T.trade_versions).values(**last)).inserted_primary_key[0]
        _reverse_flows(conn, trade_id, vid, ts, effective_date(conn, cur.record.trade_date))
    return cur.record.with_changes(status="cancelled", version=last["version"])


def count(conn) -> int:
    return conn.execute(select(func.count()).select_from(T.trades)).scalar()

