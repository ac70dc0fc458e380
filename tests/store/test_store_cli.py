"""The book of record from the command line, as a user runs it: demo init, trades, fixings,
lifecycle, eod; every user error one line on stderr and exit 2, nothing written."""
import json

import pytest

from otclab.cli.main import main
from otclab.workflows.demo import LAST_CLOSE


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli-demo")
    assert main(["demo", "init", str(d), "--trades", "160", "--paths", "300"]) == 0
    return d


def run(capsys, demo_dir, *args):
    code = main([*args, "--db", f"sqlite:///{demo_dir / 'otclab.db'}"])
    out, err = capsys.readouterr()
    return code, out, err


def test_demo_init_refuses_to_overwrite(demo_dir, capsys):
    assert main(["demo", "init", str(demo_dir)]) == 2
    assert "already exists" in capsys.readouterr().err


def test_trades_list_and_show(demo_dir, capsys):
    code, out, err = run(capsys, demo_dir, "trades", "list", "--status", "live")
    lines = out.splitlines()
    assert code == 0 and lines[0].split()[:3] == ["trade_id", "template", "underlying"]
    assert len(lines) > 20 and all(" live " in ln for ln in lines[1:])
    code, out, _ = run(capsys, demo_dir, "trades", "list", "--json")
    rows = json.loads(out)
    ki = next(r for r in rows if r["template"] == "snowball" and r["knocked_in"])
    ko = next(r for r in rows if r["template"] == "phoenix" and r["status"] == "knocked_out")
    code, out, _ = run(capsys, demo_dir, "trades", "show", ki["trade_id"])
    assert code == 0 and "knock_in" in out and "knocked_in=True" in out and "last valuation: snapshot 1" in out
    code, out, _ = run(capsys, demo_dir, "trades", "show", ko["trade_id"])
    assert code == 0 and "status knocked_out" in out and "knock_out" in out and " coupon " in out
    code, out, err = run(capsys, demo_dir, "trades", "show", "NOPE")
    assert code == 2 and err.strip() == "error: trade_id: no trade 'NOPE' in the store"
    code, out, err = run(capsys, demo_dir, "trades", "list", "--status", "alive")
    assert code == 2 and "status: must be one of live, knocked_out, matured, terminated, cancelled" in err


@pytest.mark.parametrize("content, message", [
    ("{not json", "is not valid JSON"),
    ('{"trade_id": "N1", "template": "snowbal", "terms": {}, "direction": "sell", "counterparty": "CP1"}',
     "unknown template 'snowbal'"),
    ('{"trade_id": "T00001", "template": "vanilla", "direction": "sell", "counterparty": "CP1", "terms": '
     '{"underlying": "000300.SH", "notional": 1e6, "initial_price": 4000, "start_date": "2025-12-30", '
     '"tenor_months": 3, "option_type": "call", "strike": 1.0}}', "trade 'T00001' is already booked"),
])
def test_booking_errors_are_one_line_and_write_nothing(demo_dir, capsys, tmp_path, content, message):
    before = json.loads(run(capsys, demo_dir, "trades", "list", "--json")[1])
    f = tmp_path / "t.json"
    f.write_text(content, encoding="utf-8")
    code, out, err = run(capsys, demo_dir, "trades", "book", str(f))
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert json.loads(run(capsys, demo_dir, "trades", "list", "--json")[1]) == before


def test_book_amend_cancel_round_trip(demo_dir, capsys, tmp_path):
    t = {"trade_id": "NEW1", "template": "vanilla", "direction": "buy", "premium": 50_000,
         "counterparty": {"id": "CP001", "name": "上海晨星私募基金管理有限公司"},
         "terms": {"underlying": "000300.SH", "notional": 1e6, "initial_price": 3900, "start_date": "2025-12-30",
                   "tenor_months": 3, "option_type": "put", "strike": 0.95}}
    (tmp_path / "t.json").write_text(json.dumps(t), encoding="utf-8")
    code, out, _ = run(capsys, demo_dir, "trades", "book", str(tmp_path / "t.json"))
    assert code == 0 and "booked NEW1 vanilla@" in out
    code, out, _ = run(capsys, demo_dir, "trades", "amend", "NEW1", "--set", "terms.strike=0.9", "--reason", "re-strike")
    assert code == 0 and "version 2" in out
    code, out, _ = run(capsys, demo_dir, "trades", "show", "NEW1", "--json")
    view = json.loads(out)
    assert view["trade"]["terms"]["strike"] == 0.9 and [v["action"] for v in view["versions"]] == ["new", "amend"]
    code, out, err = run(capsys, demo_dir, "trades", "amend", "NEW1", "--set", "terms.strike=0.9")
    assert code == 2 and "--reason" in err
    code, out, _ = run(capsys, demo_dir, "trades", "cancel", "NEW1", "--reason", "booked in error")
    assert code == 0 and "cancelled" in out


def test_fixings_import_refuses_a_bad_file_naming_rows(demo_dir, capsys, tmp_path):
    f = tmp_path / "bad.csv"
    f.write_text("date,underlying,close\n2026-01-05,000905.SH,5600\n2026-01-03,000905.SH,5610\n"
                 "2026-01-06,000905.SH,-1\n2026-01-07,000905.SH,\n2026-01-08,905,5600\n", encoding="utf-8")
    code, out, err = run(capsys, demo_dir, "fixings", "import", str(f))
    assert code == 2
    for part in ("row 3: 2026-01-03 is not an SSE trading day", "row 4: 000905.SH: close '-1' must be a positive",
                 "row 5: 000905.SH: the close is missing", "row 6: underlying '905' is not an exchange code"):
        assert part in err, err
    f.write_text("date,000905.SH\n2025-12-30,1\n", encoding="utf-8")
    code, out, err = run(capsys, demo_dir, "fixings", "import", str(f))
    assert code == 2 and "differ from the stored ones" in err
    f.write_text("date,000905.SH\n2026-01-05,9000\n", encoding="utf-8")
    code, out, err = run(capsys, demo_dir, "fixings", "import", str(f))
    assert code == 0 and "1 added" in out and "flagged 000905.SH 2026-01-05: move of +" in out


def test_eod_run_explain_and_rerun(demo_dir, capsys):
    code, out, err = run(capsys, demo_dir, "eod", "run", "--date", str(LAST_CLOSE), "--paths", "300")
    assert code == 0, err
    assert "risk snapshot 2: 2025-12-31, market MKT-" in out and "300 paths" in out
    assert "eod valuing: " in err and " tasks valued in " in err          # progress on stderr, stdout the result
    code, out, _ = run(capsys, demo_dir, "eod", "explain")
    assert code == 0 and "snapshot 1 (2025-12-30) -> 2 (2025-12-31), 1 trading day(s)" in out
    assert "unexplained" in out and "000905.SH" in out
    code, out, _ = run(capsys, demo_dir, "lifecycle", "run", "--date", str(LAST_CLOSE))
    assert code == 0 and "nothing due" in out
    code, out, err = run(capsys, demo_dir, "eod", "run", "--date", "2025-12-28")
    assert code == 2 and "2025-12-28 is not an SSE trading day" in err
    code, out, err = run(capsys, demo_dir, "eod", "show", "--snapshot", "99")
    assert code == 2 and "no risk snapshot 99" in err


def test_risk_from_the_command_line(demo_dir, capsys, tmp_path):
    """demo tick, risk run-once, risk grid as a user runs them; user errors one line, exit 2."""
    import openpyxl
    import pandas as pd

    feed = tmp_path / "feed"
    code, out, _ = run(capsys, demo_dir, "demo", "tick", str(feed), "--as-of", "2025-12-31T10:30:00")
    assert code == 0 and out.strip().endswith("market-20251231T103000.json")
    code, out, err = run(capsys, demo_dir, "risk", "run-once", "--feed", str(feed))
    assert code == 2 and "market-20251231T103000.json changed less than 1 s ago" in err
    import os

    os.utime(feed / "market-20251231T103000.json", (0, 1e9))      # as if dropped a while ago
    code, out, err = run(capsys, demo_dir, "risk", "run-once", "--feed", str(feed), "--paths", "500",
                         "--grid-paths", "200")
    assert code == 0, err
    assert "(refresh): market MKT-" in out and "at 2025-12-31 10:30:00 +0800" in out and "grid 9x3 mc" in out
    assert "risk valuing: " in err and " tasks valued in " in err
    assert "book (desk's view, CNY): value" in out
    code, out, err = run(capsys, demo_dir, "risk", "grid", str(tmp_path / "g.csv"))
    assert code == 0, err
    g = pd.read_csv(tmp_path / "g.csv", encoding="utf-8-sig")
    scopes = g["scope"].unique()
    assert scopes[0] == "book" and len(g) == len(scopes) * 9 * 3
    assert set(g.loc[g["spot_shift"].abs() < 1e-12, "vol_shift"].round(6)) == {-0.02, 0.0, 0.02}
    assert g["market_time"].iloc[0] == "2025-12-31T10:30:00+08:00"
    code, out, err = run(capsys, demo_dir, "risk", "grid", str(tmp_path / "g.xlsx"))
    wb = openpyxl.load_workbook(tmp_path / "g.xlsx")
    assert code == 0 and wb.sheetnames == ["grid", *scopes]
    # a refresh without a grid carries the last one, saying whose it is
    code, out, err = run(capsys, demo_dir, "risk", "run-once", "--feed", str(feed), "--paths", "500", "--no-grid")
    assert code == 0, err
    code, out, err = run(capsys, demo_dir, "risk", "grid", str(tmp_path / "g2.csv"))
    assert code == 0 and "the grid of snapshot" in out
    assert pd.read_csv(tmp_path / "g2.csv", encoding="utf-8-sig")["snapshot_id"].iloc[0] == g["snapshot_id"].iloc[0]
    for args, msg in [(("risk", "grid", str(tmp_path / "g.txt")), "out: must end in .csv or .xlsx"),
                      (("risk", "run-once"), "feed: give the market folder"),
                      (("risk", "run-once", "--feed", str(tmp_path / "none")), "feed: no market folder"),
                      (("risk", "serve", "--feed", str(feed), "--cron", "soon"), "cron: not a crontab expression")]:
        code, out, err = run(capsys, demo_dir, *args)
        assert code == 2 and msg in err and "Traceback" not in err, (args, err)
