"""``otclab book`` as a user runs it."""
import json

from otclab.cli.main import main


def test_demo_price_and_scenarios(tmp_path, capsys):
    assert main(["book", "demo", str(tmp_path), "--contracts", "6", "--seed", "2"]) == 0
    capsys.readouterr()
    code = main(["book", "price", str(tmp_path / "book.json"), "--market", str(tmp_path / "market.json"),
                 "--paths", "2000", "--json", "--out", str(tmp_path / "out.csv")])
    res = json.loads(capsys.readouterr().out)
    assert code == 0 and len(res["contracts"]) == 6 and (tmp_path / "out.csv").exists()
    assert all({"value", "delta", "vega", "theta", "rho"} <= set(r) for r in res["contracts"])
    code = main(["book", "scenarios", str(tmp_path / "book.json"), "--market", str(tmp_path / "market.json"),
                 "--paths", "1000", "--spot-steps", "5", "--vol-steps", "3", "--json"])
    grid = json.loads(capsys.readouterr().out)
    assert code == 0 and len(grid["pnl"]) == 5 and len(grid["pnl"][0]) == 3
    assert abs(grid["pnl"][2][1]) < 1e-6


def test_bad_book_is_one_clear_line(tmp_path, capsys):
    (tmp_path / "book.json").write_text(json.dumps([{"terms": {}}]))
    (tmp_path / "m.json").write_text("{}")
    assert main(["book", "price", str(tmp_path / "book.json"), "--market", str(tmp_path / "m.json")]) == 2
    assert "book[0]: each contract needs 'template' and 'terms'" in capsys.readouterr().err


def test_scenarios_by_monte_carlo_and_a_bad_method(tmp_path, capsys):
    assert main(["book", "demo", str(tmp_path), "--contracts", "3", "--seed", "4"]) == 0
    capsys.readouterr()
    args = ["book", "scenarios", str(tmp_path / "book.json"), "--market", str(tmp_path / "market.json"),
            "--paths", "1000", "--spot-steps", "3", "--vol-steps", "1", "--vol-range", "0", "--json"]
    assert main(args + ["--method", "mc"]) == 0
    assert len(json.loads(capsys.readouterr().out)["pnl"]) == 3
    assert main(args + ["--method", "pde"]) == 2
    err = capsys.readouterr().err
    assert "method: must be one of auto, mc; got 'pde'" in err and "Traceback" not in err
