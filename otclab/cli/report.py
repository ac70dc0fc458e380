"""``otclab report``: trade-repository report export (JSON + FpML 5), validated and logged."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

NAME = "report"
app = typer.Typer(help="Trade-repository reports from booked term sheets.", no_args_is_help=True)


@app.command()
def export(
    booking: Path = typer.Argument(..., help="Booking JSON: uti, trade_date, term_sheet, parties, premium, event."),
    out_dir: Path = typer.Option(Path("."), help="Folder for <UTI>-<event>.json and .fpml.xml."),
    evidence: Optional[str] = typer.Option(None, help="Evidence log (path or postgresql:// URL)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Build the report record, export JSON and FpML XML, validate both, log the submission."""
    import json

    from ..esign.cli_support import emit, open_log, read_bytes, write_bytes
    from ..esign.errors import InputError
    from ..esign.report import export_report

    try:
        data = json.loads(read_bytes(booking, "booking"))
    except ValueError as exc:
        raise InputError(f"booking is not valid JSON ({exc})", field="booking") from None
    with open_log(evidence) as log:
        result = export_report(data, evidence=log)
    rec = result["record"]
    stem = f"{rec['uti']}-{rec['lifecycle_event']['type']}"
    jpath, xpath = out_dir / f"{stem}.json", out_dir / f"{stem}.fpml.xml"
    write_bytes(jpath, result["json"])
    write_bytes(xpath, result["fpml"])
    emit({"json": str(jpath), "fpml": str(xpath), "product": rec["product"], "uti": rec["uti"],
          "validated": {"json_schema": True, "fpml_structure": True}, "evidence": result["receipt"]}, as_json,
         [f"report {rec['uti']} ({rec['product']['id']}, {rec['product']['fpml_product']}) -> {jpath}, {xpath}",
          "validated: JSON schema OK, FpML structure OK",
          f"evidence entry {result['receipt']['index']}"])
