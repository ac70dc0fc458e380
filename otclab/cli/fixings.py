"""``otclab fixings import|show``: daily closes per underlying."""
from __future__ import annotations

from typing import Optional

import typer

from ._store import db_option, dump, get_store, read_text, user

NAME = "fixings"
app = typer.Typer(help="Import and show daily closes (fixings) per underlying.", no_args_is_help=True)


@app.command("import")
def import_cmd(source: str = typer.Argument(..., help="CSV file (date,underlying,close or date,<code>,...) or -"),
               revise: bool = typer.Option(False, "--revise", help="keep closes that differ from stored ones as "
                                                                   "new revisions"),
               max_move: float = typer.Option(0.10, help="flag moves from the previous close beyond this fraction"),
               db: Optional[str] = db_option(), as_json: bool = typer.Option(False, "--json")) -> None:
    """Import closes; the whole file is refused (row numbers named) if any row is wrong."""
    from ..store.fixings import import_fixings

    res = import_fixings(get_store(db), read_text(source, "fixings"), source, revise=revise, max_move=max_move,
                         imported_by=user())
    if as_json:
        dump(res.__dict__)
        return
    print(f"import #{res.import_id}: {res.rows} closes read, {res.added} added, {res.unchanged} unchanged, "
          f"{res.revised} revised; {', '.join(res.underlyings)} from {res.first} to {res.last}")
    for u, d, msg in res.flagged[:20]:
        print(f"  flagged {u} {d}: {msg}")
    if len(res.flagged) > 20:
        print(f"  ... {len(res.flagged) - 20} more flagged")


@app.command("show")
def show_cmd(underlying: str, start: Optional[str] = typer.Option(None, "--from"),
             end: Optional[str] = typer.Option(None, "--to"), db: Optional[str] = db_option(),
             as_json: bool = typer.Option(False, "--json")) -> None:
    """The stored closes of an underlying (newest revisions)."""
    import datetime as dt

    from ..core.dates import parse_date
    from ..store.fixings import latest

    a = parse_date(start, "--from") - dt.timedelta(days=1) if start else None
    b = parse_date(end, "--to") if end else None
    with get_store(db).connect() as conn:
        series = latest(conn, [underlying], a, b).get(underlying, {})
    rows = [{"date": d.isoformat(), "close": c, "fixing_id": i} for d, (c, i) in sorted(series.items())]
    if as_json:
        dump(rows)
        return
    if not rows:
        print(f"no closes of {underlying} stored")
    for r in rows:
        print(f"{r['date']}  {r['close']:>12,.4f}  #{r['fixing_id']}")
