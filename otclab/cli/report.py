"""``otclab report``: trade-repository report export (JSON + FpML 5), validated and logged."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

NAME = "report"
app = typer.Typer(help="Trade-repository reports of booked trades (JSON record + FpML 5).", no_args_is_help=True)

EVENTS = "new | amend | correct | terminate | knock_out | knock_in | exercise | expire"


def _load(path: Path, what: str):
    import json

    from ..esign.cli_support import read_bytes
    from ..esign.errors import InputError

    try:
        return json.loads(read_bytes(path, what))
    except ValueError as exc:
        raise InputError(f"{path} is not valid JSON ({exc})", field=what) from None


def _read_trade(raw):
    """The trade record from its JSON form (or a ``trades show --json`` view holding it under
    "trade"), validated against the current template notebooks."""
    from ..store.record import read_record

    return read_record(raw, "trade")


@app.command()
def export(
    trade: Path = typer.Argument(..., help="Trade JSON in the trade record's form: trade_id, uti, template, "
                                           "template_version, terms, direction, counterparty {id, name, uscc}, "
                                           "trade_date, premium, premium_date (what `otclab trades show ID --json` "
                                           "prints; the whole output or its \"trade\" part)."),
    dealer: Path = typer.Option(..., "--dealer", help="Reporting dealer JSON: {name, uscc?, lei?}, at least one id."),
    event: str = typer.Option("new", help=f"Lifecycle event reported: {EVENTS}."),
    event_date: Optional[str] = typer.Option(None, help="Date of the event, YYYY-MM-DD (default: the trade date)."),
    out_dir: Path = typer.Option(Path("."), help="Folder for <UTI>-<event>.json and .fpml.xml."),
    evidence: Optional[str] = typer.Option(None, help="Evidence log (path or postgresql:// URL)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Build the report record of a trade, export JSON and FpML XML, validate both, log the submission.

    The client is the trade's counterparty (identified by its USCC); the buyer follows the
    trade's direction (desk sells: the client buys and pays the premium).
    """
    from ..esign.cli_support import emit, open_log, write_bytes
    from ..esign.report import export_report

    record = _read_trade(_load(trade, "trade"))
    party = _load(dealer, "dealer")
    ev = {"type": event, **({"date": event_date} if event_date else {})}
    with open_log(evidence) as log:
        result = export_report(record, party, ev, evidence=log)
    rec = result["record"]
    stem = f"{rec['uti']}-{rec['lifecycle_event']['type']}"
    jpath, xpath = out_dir / f"{stem}.json", out_dir / f"{stem}.fpml.xml"
    write_bytes(jpath, result["json"])
    write_bytes(xpath, result["fpml"])
    emit({"json": str(jpath), "fpml": str(xpath), "product": rec["product"], "uti": rec["uti"],
          "trade_id": rec["trade_id"], "validated": {"json_schema": True, "fpml_structure": True},
          "evidence": result["receipt"]}, as_json,
         [f"report {rec['uti']} (trade {rec['trade_id']}, {rec['product']['id']}, {rec['product']['fpml_product']})"
          f" -> {jpath}, {xpath}",
          "validated: JSON schema OK, FpML structure OK",
          f"evidence entry {result['receipt']['index']}"])
