"""Which booked trade a confirmation is about: by trade id or UTI, else by its economic facts.

``match_trade(conn, fields)`` looks in the store's book (current versions; cancelled trades
never match):

1. the document's trade id, compared in canonical form (``values.id_key``: OCR drops hyphens and
   confuses O/0), against every booked trade id and UTI;
2. else the facts the document states among counterparty (legal name, normalised), underlying,
   trade, start and maturity dates and notional (CNY, to 1e-6 relative): every stated fact must
   agree, and at least ``MIN_FACTS`` of them must be stated.

The result names the trade matched, or the candidates: several trades fitting (``ambiguous``),
or none (``none``, with the nearest trades: those agreeing on most facts). Either is a break for
a person; the confirmation is never attached to a guess.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from ..store import tables as T
from ..store.book import StoredTrade, load_book
from .values import clean_text, id_key

FACTS = ("counterparty", "underlying", "trade_date", "start_date", "maturity_date", "notional")
MIN_FACTS = 3
NEAREST = 3


@dataclass
class BookMatch:
    """``trade``: the one booked trade matched (None when none or several); ``how``: trade_id |
    uti | facts | ambiguous | none; ``candidates``: the trades fitting (ambiguous) or nearest
    (none), each with the facts it agrees on."""

    how: str
    trade: StoredTrade | None = None
    candidates: list[dict] = field(default_factory=list)
    note: str = ""


def _facts(st: StoredTrade) -> dict:
    r = st.record
    return {"counterparty": r.counterparty.name, "underlying": r.underlying, "trade_date": r.trade_date.isoformat(),
            "start_date": r.start_date.isoformat(), "maturity_date": r.maturity_date.isoformat(),
            "notional": r.notional}


def _agrees(f: str, booked, doc) -> bool:
    if f == "counterparty":
        return clean_text(str(booked)) == clean_text(str(doc))
    if f == "notional":
        try:
            return abs(float(booked) - float(doc)) <= 1e-6 * max(1.0, abs(float(booked)))
        except (TypeError, ValueError):
            return False
    return str(booked) == str(doc)


def describe_candidate(st: StoredTrade, agreed: list[str] | None = None) -> dict:
    """A candidate trade as a break lists it."""
    r = st.record
    out = {"trade_id": r.trade_id, "uti": r.uti, "counterparty": r.counterparty.name, "underlying": r.underlying,
           "trade_date": r.trade_date.isoformat(), "notional": r.notional, "template": r.template,
           "trader": r.trader}
    if agreed is not None:
        out["agrees_on"] = agreed
    return out


def match_trade(conn, fields: dict) -> BookMatch:
    """The booked trade ``fields`` (an extraction's fields) is about; see the module doc."""
    tv = T.trade_versions
    tid = fields.get("trade_id")
    note = ""
    if tid:
        key = id_key(str(tid))
        hits = set()
        for row in conn.execute(select(tv.c.trade_id, tv.c.uti).distinct()):
            if id_key(row.trade_id) == key:
                hits.add((row.trade_id, "trade_id"))
            elif id_key(row.uti) == key:
                hits.add((row.trade_id, "uti"))
        live = [(t, how) for t, how in sorted(hits)]
        found = {s.trade_id: s for s in load_book(conn, trade_ids=[t for t, _ in live])} if live else {}
        found = {k: s for k, s in found.items() if s.status != "cancelled"}
        if len(found) == 1:
            (t, st), = found.items()
            return BookMatch(dict(live)[t], st)
        if len(found) > 1:
            return BookMatch("ambiguous", None, [describe_candidate(s, ["trade_id"]) for s in found.values()],
                             f"trade id {tid} fits {len(found)} booked trades")
        note = f"no booked trade has the id or UTI {tid}; matched by its facts instead"
    stated = {f: fields.get(f) for f in FACTS if fields.get(f) not in (None, "")}
    pool = [s for s in load_book(conn, underlying=stated.get("underlying")) if s.status != "cancelled"]
    if stated.get("underlying") and not pool:   # an underlying misread: look at the whole book
        pool = [s for s in load_book(conn) if s.status != "cancelled"]
    scored = []
    for st in pool:
        try:
            facts = _facts(st)
        except Exception:  # noqa: BLE001 - a trade whose maturity cannot be resolved matches on the rest
            facts = {f: v for f, v in (("counterparty", st.record.counterparty.name),
                                       ("underlying", st.record.underlying)) }
        agreed = [f for f, v in stated.items() if f in facts and _agrees(f, facts[f], v)]
        scored.append((len(agreed), st, agreed))
    if len(stated) >= MIN_FACTS:
        fit = [(st, ag) for n, st, ag in scored if n == len(stated)]
        if len(fit) == 1:
            return BookMatch("facts", fit[0][0], [], note)
        if len(fit) > 1:
            return BookMatch("ambiguous", None, [describe_candidate(st, ag) for st, ag in fit],
                             f"{len(fit)} booked trades agree on {', '.join(stated)}")
        why = "no booked trade agrees on all of " + ", ".join(stated)
    else:
        why = (f"the document states only {', '.join(stated) or 'none'} of {', '.join(FACTS)}: "
               f"at least {MIN_FACTS} are needed to match without a trade id")
    scored.sort(key=lambda x: (-x[0], x[1].trade_id))
    near = [describe_candidate(st, ag) for n, st, ag in scored[:NEAREST] if n >= 2]
    return BookMatch("none", None, near, (note + "; " if note else "") + why)
