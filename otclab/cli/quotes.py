"""``otclab quotes``: the RFQ bot's server and the traders' quote commands."""
from __future__ import annotations

import json
from typing import List, Optional

import typer

from ._store import DB_HELP, get_store, table

NAME = "quotes"
app = typer.Typer(help="Quote workflow: the WeCom RFQ bot server, the quote blotter, approvals and contacts.",
                  no_args_is_help=True)
contacts_app = typer.Typer(help="WeCom userids mapped to counterparties (who may be quoted).", no_args_is_help=True)
app.add_typer(contacts_app, name="contacts")

STORE_HELP = DB_HELP


def _store_opt():
    return typer.Option(None, "--store", "--db", help=STORE_HELP)


def _config_opt():
    return typer.Option(None, "--config", help="settings file (TOML or JSON; default $OTCLAB_QUOTES_CONFIG)")


def _setup(store: Optional[str], config: Optional[str], require_wecom: bool = False):
    from ..workflows.quotes import service
    from ..workflows.quotes.config import load_config

    cfg = load_config(config, require_wecom=require_wecom)
    service.configure(cfg)
    return get_store(store), cfg


def _pct(v):
    return "-" if v is None else f"{100 * v:.2f}%"


@app.command("serve")
def serve_cmd(store: Optional[str] = _store_opt(), config: Optional[str] = _config_opt(),
              host: str = typer.Option("127.0.0.1", help="address to listen on"),
              port: int = typer.Option(8090, help="port of the WeCom callback")) -> None:
    """Run the WeCom callback and the workers (processing, expiry, replies) until SIGTERM / Ctrl-C."""
    import logging
    import sys

    from ..workflows.quotes.service import serve

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    st, cfg = _setup(store, config, require_wecom=True)

    def ready(svc):
        print(f"quotes: listening on {svc.url} (store {st.display_url}, {cfg.workers} worker(s), validity "
              f"{cfg.validity_s:g} s, four-eyes above {cfg.four_eyes_notional:,.0f} CNY)", flush=True)
        sys.stdout.flush()

    serve(st, cfg, host, port, on_ready=ready)


@app.command("list")
def list_cmd(state: Optional[List[str]] = typer.Option(None, "--state", help="only these states (repeatable)"),
             limit: int = typer.Option(50), store: Optional[str] = _store_opt(), config: Optional[str] = _config_opt(),
             as_json: bool = typer.Option(False, "--json")) -> None:
    """The blotter: newest quotes first."""
    import pandas as pd

    from ..workflows.quotes.service import list_quotes

    st, _ = _setup(store, config)
    rows = list_quotes(st, state or None, limit)
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    df = pd.DataFrame([{"quote": r["quote_id"], "state": r["state"], "left s": round(r["seconds_left"]),
                        "sender": r["sender"], "underlying": r["underlying"], "structure": r["structure"],
                        "tenor": r["tenor"], "notional": r["notional"],
                        "quote (asked)": _pct(r["fair_coupon"] if r["fair_coupon"] is not None else
                                              r["participation"] if r["participation"] is not None else r["price"]),
                        "engine": r["engine"] or "-", "maker": r["maker"] or "-",
                        "checkers": ",".join(r["checkers"]) or "-"} for r in rows])
    print(table(df) if rows else "(no quotes)")


@app.command("show")
def show_cmd(quote_id: str, store: Optional[str] = _store_opt(), config: Optional[str] = _config_opt(),
             as_json: bool = typer.Option(False, "--json")) -> None:
    """One quote: the chat text, the parsed fields, the terms, the price, the reply, its history."""
    from ..workflows.quotes.service import get_quote

    st, _ = _setup(store, config)
    q = get_quote(st, quote_id)
    if as_json:
        print(json.dumps(q, ensure_ascii=False, indent=1, default=str))
        return
    p = q["pricing"] or {}
    print(f"{q['quote_id']}  {q['state']}  valid until {q['valid_until']} ({q['seconds_left']:.0f} s left)")
    print(f"from {q['sender']} ({q['counterparty_name']}) in {q['chat_id'] or '-'}: {q['raw_text']}")
    print("parsed: " + "  ".join(f"{k}={v}" for k, v in q["fields"].items()))
    if q["template"]:
        print(f"template {q['template']} {q['template_version']}; terms " + json.dumps(q["terms"], ensure_ascii=False))
    if p:
        solved = p.get("solved")
        print(f"price: value {p['value']:,.2f} CNY ({_pct(p['value_pct'])} of notional), engine {p['engine']}"
              + (f", {solved['field']} = {_pct(solved['value'])}" if solved else "")
              + (f", vol {_pct(p['vol'])}" if p.get("vol") is not None else "")
              + f", market {q['market_snapshot_id']}")
    if q["error"]:
        print(f"error: {q['error']}")
    if q["needs_second_approval"]:
        print(f"four-eyes: maker {q['maker'] or '(first approver)'}; a second approver is needed")
    if q["reply_preview"]:
        print(f"reply: {q['reply_preview']}")
    print("history:")
    for e in q["history"]:
        print(f"  {e['at']}  {e['from_state'] or '-':>16} -> {e['to_state']:<16} by {e['by']}")


@app.command("approve")
def approve_cmd(quote_id: str, user: str = typer.Option(..., "--user", help="who approves (audited)"),
                store: Optional[str] = _store_opt(), config: Optional[str] = _config_opt()) -> None:
    """Approve a quote pending approval (above the four-eyes notional: two different traders)."""
    from ..workflows.quotes.service import approve

    st, _ = _setup(store, config)
    q = approve(st, quote_id, user)
    if q["state"] == "pending_approval":
        print(f"{quote_id}: first approval by {user} recorded; above the four-eyes notional a second approver "
              f"different from {q['maker']} is needed")
    else:
        print(f"{quote_id}: approved by {user}; reply queued: {q['reply']}")


@app.command("reject")
def reject_cmd(quote_id: str, user: str = typer.Option(..., "--user"),
               reason: str = typer.Option(..., "--reason", help="why (audited)"),
               store: Optional[str] = _store_opt(), config: Optional[str] = _config_opt()) -> None:
    """Reject a quote (no price goes to the client)."""
    from ..workflows.quotes.service import reject

    st, _ = _setup(store, config)
    reject(st, quote_id, user, reason)
    print(f"{quote_id}: rejected by {user} ({reason})")


@app.command("cancel")
def cancel_cmd(quote_id: str, user: str = typer.Option(..., "--user"),
               reason: str = typer.Option(..., "--reason", help="why (audited)"),
               store: Optional[str] = _store_opt(), config: Optional[str] = _config_opt()) -> None:
    """Withdraw a quote the desk no longer stands by (not once booked)."""
    from ..workflows.quotes.service import cancel

    st, _ = _setup(store, config)
    cancel(st, quote_id, user, reason)
    print(f"{quote_id}: cancelled by {user} ({reason})")


@app.command("accept")
def accept_cmd(quote_id: str, user: str = typer.Option(..., "--user", help="who records the client's acceptance"),
               store: Optional[str] = _store_opt(), config: Optional[str] = _config_opt()) -> None:
    """The client accepted: book the quote as a trade (pinned template version)."""
    from ..workflows.quotes.service import accept

    st, _ = _setup(store, config)
    tid = accept(st, quote_id, user)
    print(f"{quote_id}: booked as trade {tid}")


@contacts_app.command("add")
def contacts_add(userid: str, counterparty_id: str = typer.Option(..., "--counterparty-id"),
                 name: str = typer.Option(..., "--name", help="the counterparty's legal name"),
                 uscc: Optional[str] = typer.Option(None, "--uscc"),
                 status: str = typer.Option("approved", help="approved | pending | blocked"),
                 user: Optional[str] = typer.Option(None, "--user"), store: Optional[str] = _store_opt()) -> None:
    """Map a WeCom userid to a counterparty (a new record; the newest one counts)."""
    from ..workflows.quotes import contacts

    from ._store import user as whoami

    c = contacts.add(get_store(store), userid, counterparty_id, name, uscc, status, user or whoami())
    print(f"{c['userid']} -> {c['counterparty_id']} {c['counterparty_name']} ({c['status']})")


@contacts_app.command("list")
def contacts_list(store: Optional[str] = _store_opt(), as_json: bool = typer.Option(False, "--json")) -> None:
    """The current contact of every WeCom userid."""
    import pandas as pd

    from ..workflows.quotes import contacts

    rows = contacts.list_contacts(get_store(store))
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    print(table(pd.DataFrame([{k: r[k] for k in ("userid", "counterparty_id", "counterparty_name", "status",
                                                 "recorded_by")} for r in rows])) if rows else "(no contacts)")
