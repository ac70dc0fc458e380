"""``otclab confirm`` as a user runs it: JSON on stdout, one-line errors with exit code 2."""
from __future__ import annotations

import json
import subprocess
import sys

from otclab.cli.main import main
from otclab.confirm.trade import confirmation_fields



def write_json(path, obj):
    path.write_text(json.dumps(obj, ensure_ascii=False))
    return path


def test_extract_json(text_pdf, trade, capsys):
    assert main(["confirm", "extract", str(text_pdf), str(text_pdf), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out) == 2 and set(out[0]) == {"source", "fields", "confidence", "layout", "warnings"}
    assert out[0]["source"] == "conf.pdf"
    want = confirmation_fields(trade)
    assert out[0]["fields"]["ko_barrier"] == want["ko_barrier"]
    assert out[0]["fields"]["notional"] == want["notional"]
    assert out[0]["fields"]["maturity_date"] == want["maturity_date"]
    assert out[0]["fields"]["strike"] is None and "strike" not in out[0]["confidence"]


def test_generate_then_reconcile(tmp_path, trade, capsys):
    tf = write_json(tmp_path / "trade.json", trade.to_dict())  # what `otclab trades show ID --json` has
    pdf = tmp_path / "out.pdf"
    assert main(["confirm", "generate", str(tf), "--out", str(pdf), "--layout", "clauses"]) == 0
    assert main(["confirm", "reconcile", str(pdf), "--trade", str(tf)]) == 0
    assert "matches the booking" in capsys.readouterr().out
    raw = trade.to_dict()
    coupon = raw["terms"]["coupon"]
    other = write_json(tmp_path / "other.json", {"trade": dict(raw, terms={**raw["terms"], "coupon": round(coupon + 0.01, 6)})})
    assert main(["confirm", "reconcile", str(pdf), "--trade", str(other), "--json"]) == 1
    rep = json.loads(capsys.readouterr().out)
    assert [m["field"] for m in rep["mismatches"]] == ["coupon"]
    assert rep["mismatches"][0]["document"] == coupon


def test_user_errors_exit_2_with_one_line(tmp_path, capsys):
    bad = tmp_path / "x.pdf"
    bad.write_text("plain text")
    assert main(["confirm", "extract", str(bad), "--json"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "file" in err and "not a PDF" in err
    tf = write_json(tmp_path / "t.json", {"template": "condor"})
    assert main(["confirm", "generate", str(tf), "--out", str(tmp_path / "o.pdf")]) == 2
    assert "trade.trade_id: is required" in capsys.readouterr().err
    tf = write_json(tmp_path / "t.json", {"trade_id": "T1", "template": "condor", "terms": {}, "direction": "sell",
                                          "counterparty": {"id": "CP1", "name": "甲"}})
    assert main(["confirm", "generate", str(tf), "--out", str(tmp_path / "o.pdf")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "trade.template" in err and "condor" in err
    assert main(["confirm", "generate", str(tf), "--out", str(tmp_path / "o.pdf"), "--layout", "x"]) == 2


def test_inbox_command(tmp_path, text_pdf, capsys):
    (tmp_path / "inbox").mkdir()
    text_pdf.replace(tmp_path / "inbox" / "a.pdf")
    assert main(["confirm", "inbox", str(tmp_path), "--settle", "0", "--json"]) == 0
    entry = json.loads(capsys.readouterr().out.splitlines()[0])
    assert entry["status"] == "processed" and entry["file"] == "a.pdf"


def test_cli_import_stays_light():
    code = ("import sys, otclab.cli.main; "
            "bad = [m for m in ('docling', 'rapidocr', 'reportlab', 'onnxruntime', 'torch') if m in sys.modules]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)
