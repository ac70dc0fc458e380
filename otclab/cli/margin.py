"""``otclab margin post|show``: collateral movements and the margin calls of a snapshot."""
from __future__ import annotations

from typing import Optional

import typer

from ._store import db_option, get_store, money, table

NAME = "margin"
app = typer.Typer(help="履约保障: record collateral delivered or returned; show a snapshot's margin calls.",
                  no_args_is_help=True)


@app.command("post")
def post_cmd(counterparty: str = typer.Option(...), amount: float = typer.Option(..., help="market value; "
                                                                                       "negative for a return"),
             date: str = typer.Option(..., help="value date YYYY-MM-DD"),
             asset: str = typer.Option("cash", help="cash | bond | stock (haircuts in the margin policy)"),
             note: Optional[str] = typer.Option(None), db: Optional[str] = db_option()) -> None:
    """Record collateral the client delivered (+) or the desk returned (-)."""
    from sqlalchemy import insert

    from ..core.dates import parse_date
    from ..core.errors import InputError
    from ..store import tables as T
    from ..store.db import now

    if asset not in ("cash", "bond", "stock"):
        raise InputError(f"must be cash, bond or stock; got {asset!r}", "asset")
    if amount == 0 or amount != amount:
        raise InputError("must be a non-zero amount", "amount")
    with get_store(db).begin() as conn:
        conn.execute(insert(T.collateral).values(counterparty_id=counterparty, date=parse_date(date, "date"),
                                                 asset=asset, amount=amount, note=note, created_at=now()))
    print(f"{counterparty}: {asset} {money(amount)} on {date} recorded")


@app.command("show")
def show_cmd(snapshot: Optional[int] = typer.Option(None), db: Optional[str] = db_option()) -> None:
    """Margin per counterparty in a risk snapshot (default: the latest EOD)."""
    from ..store import risk

    with get_store(db).connect() as conn:
        h = risk.header(conn, snapshot)
        df = risk.margin(conn, h["id"])
    print(f"snapshot {h['id']} ({h['valuation_date']}), policy: {h['settings'].get('margin_policy')}")
    print(table(df.drop(columns=["snapshot_id"])))
