"""``otclab market import|show``: market snapshots (spots, curves, vols) by content hash."""
from __future__ import annotations

from typing import Optional

import typer

from ._store import db_option, dump, get_store, read_json

NAME = "market"
app = typer.Typer(help="Store and show market snapshots (spots, rate and dividend curves, vol surfaces).",
                  no_args_is_help=True)


@app.command("import")
def import_cmd(source: str = typer.Argument(..., help="market snapshot JSON (the pricing request's market form)"),
               db: Optional[str] = db_option()) -> None:
    """Store a market snapshot; prints its id (MKT- + content hash; the same market is stored once)."""
    from ..store import markets

    data = read_json(source, "market")
    with get_store(db).begin() as conn:
        sid = markets.put(conn, data, source)
    print(sid)


@app.command("show")
def show_cmd(snapshot_id: str, db: Optional[str] = db_option()) -> None:
    """A stored market snapshot as JSON."""
    from ..store import markets

    with get_store(db).connect() as conn:
        dump(markets.get(conn, snapshot_id).to_dict())
