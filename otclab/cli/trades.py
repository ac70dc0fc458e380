"""``otclab trades book|list|show|amend|cancel``: the book of record from the command line."""
from __future__ import annotations

from typing import List, Optional

import typer

from ._store import db_option, dump, get_store, money, read_json, table, user

NAME = "trades"
app = typer.Typer(help="Book, list, show, amend and cancel trades in the store.", no_args_is_help=True)


@app.command("book")
def book_cmd(source: str = typer.Argument(..., help="JSON file of a trade or a list of trades, or - for stdin"),
             db: Optional[str] = db_option(), as_json: bool = typer.Option(False, "--json")) -> None:
    """Book new trades: {trade_id, template, template_version?, terms, direction, counterparty,
    trade_date?, premium?, premium_date?, uti?, trader?}. All or nothing."""
    from ..workflows.trades import book

    booked = book(get_store(db), read_json(source, "trades"), recorded_by=user())
    if as_json:
        dump([r.to_dict() for r in booked])
        return
    for r in booked[:20]:
        print(f"booked {r.trade_id} {r.template}@{r.template_version} {r.direction} {r.underlying} "
              f"notional {money(r.notional)} with {r.counterparty.id} (UTI {r.uti})")
    if len(booked) > 20:
        print(f"... {len(booked) - 20} more")
    print(f"{len(booked)} trade(s) booked")


@app.command("list")
def list_cmd(status: Optional[str] = typer.Option(None, help="live | knocked_out | matured | terminated | cancelled"),
             underlying: Optional[str] = typer.Option(None), counterparty: Optional[str] = typer.Option(None),
             template: Optional[str] = typer.Option(None), db: Optional[str] = db_option(),
             as_json: bool = typer.Option(False, "--json")) -> None:
    """The trades of the book with their status and lifecycle state."""
    import pandas as pd

    from ..core.errors import InputError
    from ..store.book import load_book
    from ..store.record import STATUSES

    if status is not None and status not in STATUSES:
        raise InputError(f"must be one of {', '.join(STATUSES)}; got {status!r}", "status")
    with get_store(db).connect() as conn:
        trades = load_book(conn, underlying=underlying, counterparty=counterparty, status=status)
    if template:
        trades = [t for t in trades if t.record.template == template]
    rows = [{"trade_id": t.trade_id, "template": t.record.template, "underlying": t.record.underlying,
             "direction": t.record.direction, "counterparty": t.record.counterparty.id,
             "notional": t.record.notional, "start": t.record.start_date.isoformat(),
             "maturity": t.record.maturity_date.isoformat(), "status": t.status,
             "knocked_in": bool((t.state or {}).get("ki")), "last_event": t.last_event_date.isoformat()
             if t.last_event_date else None, "version": t.record.version} for t in trades]
    if as_json:
        dump(rows)
        return
    print(table(pd.DataFrame(rows)))


@app.command("show")
def show_cmd(trade_id: str, db: Optional[str] = db_option(), as_json: bool = typer.Option(False, "--json")) -> None:
    """Terms, version history, events, cash flows, current state and last valuation of a trade."""
    from ..workflows.trade_view import trade_view

    with get_store(db).connect() as conn:
        view = trade_view(conn, trade_id)
    if as_json:
        dump(view)
        return
    r = view["trade"]
    print(f"{r['trade_id']}  {r['template']}@{r['template_version']}  {r['direction']}  status {view['status']}"
          f"  version {r['version']}  UTI {r['uti']}")
    print(f"counterparty {r['counterparty']['id']} {r['counterparty']['name']} {r['counterparty']['uscc'] or ''}")
    print(f"trade date {r['trade_date']}  premium {money(r['premium'])} on {r['premium_date']}  "
          f"maturity {view['maturity_date']}")
    print("terms: " + ", ".join(f"{k}={v}" for k, v in r["terms"].items() if v is not None))
    st = view["state"]
    print("state: " + ", ".join(f"{k}={v}" for k, v in st.items()))
    print("\nversions:")
    for v in view["versions"]:
        print(f"  v{v['version']} {v['action']:<8} {v['recorded_at'][:19]} by {v['recorded_by'] or '-'}"
              + (f"  reason: {v['reason']}" if v["reason"] else ""))
    print(f"\nevents ({len(view['events'])}; amounts from the holder's view):")
    s0 = r["terms"]["initial_price"]
    for e in view["events"][-30:]:
        amt = f"  amount {money(e['amount'])}" if e["amount"] else ""
        fx = f"  close {e['close']:,.2f} (fixing #{e['fixing_id']})" if e["close"] is not None else ""
        lvl = f" vs {e['level']:.2%} = {e['level'] * s0:,.2f}" if e["level"] is not None else ""
        print(f"  {e['date']} {e['type']:<14}{fx}{lvl}{amt}")
    if len(view["events"]) > 30:
        print(f"  ... {len(view['events']) - 30} earlier events (--json shows all)")
    print(f"\ncash flows (desk's view, {len(view['cashflows'])}):")
    for c in view["cashflows"]:
        print(f"  {c['event_date']} pay {c['payment_date']} {c['type']:<10} {money(c['amount'])} {c['currency']}")
    lv = view["last_valuation"]
    if lv and lv.get("value") is None:
        print(f"\nlast valuation: snapshot {lv['snapshot_id']} failed: {lv['error']}")
    elif lv:
        def pm(k):
            e = lv.get(f"{k}_se")
            return f" ± {money(e)}" if e else ""
        print(f"\nlast valuation: snapshot {lv['snapshot_id']} on {lv['date']} ({lv['engine']}, market "
              f"{lv['market_snapshot_id']}), desk's view, CNY: value {money(lv['value'])}"
              + (f" ± {money(lv['stderr'])}" if lv.get("stderr") else "")
              + f"; cash delta {money(lv['cash_delta'])}"
              + (f" ({lv['delta_pct']:.1f}% of notional)" if lv.get("delta_pct") is not None else "")
              + (f", 1% cash gamma {money(lv['cash_gamma_1pct'])}" if lv.get("cash_gamma_1pct") is not None else "")
              + f", vega/vol pt {money(lv['vega'])}{pm('vega')}, theta/day {money(lv['theta'])}{pm('theta')}, "
              f"rho/1% {money(lv['rho'])}{pm('rho')}"
              + (f"; noisy: {lv['flagged']}" if lv.get("flagged") else ""))


@app.command("amend")
def amend_cmd(trade_id: str, set_: List[str] = typer.Option([], "--set", help="field=value, e.g. terms.coupon=0.15"),
              changes: Optional[str] = typer.Option(None, "--changes", help="JSON file of the changes"),
              reason: str = typer.Option(..., help="why (audited)"),
              correct: bool = typer.Option(False, "--correct", help="a correction of a booking error: replay the "
                                                                     "lifecycle and reverse superseded cash flows"),
              db: Optional[str] = db_option(), as_json: bool = typer.Option(False, "--json")) -> None:
    """Append a new version of a trade (amendment from now on, or --correct a booking error)."""
    from ..workflows.trades import amend

    ch = read_json(changes, "changes") if changes else {}
    for item in set_:
        ch = _set(ch, item)
    rec = amend(get_store(db), trade_id, ch, reason, correct=correct, recorded_by=user())
    if as_json:
        dump(rec.to_dict())
    else:
        print(f"{trade_id}: version {rec.version} recorded ({'correction' if correct else 'amendment'})")


def _set(ch: dict, item: str) -> dict:
    import json

    from ..core.errors import InputError

    if "=" not in item:
        raise InputError(f"expected field=value; got {item!r}", "--set")
    key, raw = item.split("=", 1)
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    parts = key.strip().split(".")
    if parts[0] == "terms" and len(parts) == 2:
        ch.setdefault("terms", {})[parts[1]] = value
    elif len(parts) == 1:
        ch[parts[0]] = value
    elif parts[0] == "counterparty" and len(parts) == 2:
        ch.setdefault("counterparty", {})[parts[1]] = value
    else:
        raise InputError(f"unknown field {key!r}; use terms.<name> or a record field", "--set")
    return ch


@app.command("cancel")
def cancel_cmd(trade_id: str, reason: str = typer.Option(..., help="why (audited)"),
               db: Optional[str] = db_option(), as_json: bool = typer.Option(False, "--json")) -> None:
    """Cancel a trade booked in error (a cancelling version; its cash flows are reversed)."""
    from ..workflows.trades import cancel

    rec = cancel(get_store(db), trade_id, reason, recorded_by=user())
    if as_json:
        dump(rec.to_dict())
    else:
        print(f"{trade_id}: cancelled (version {rec.version})")
