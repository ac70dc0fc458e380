"""Progress of the long book commands: a line per stage and step on stderr when not on a terminal,
the same numbers as one pass; the time left is the rate so far applied to what remains."""
import io
import json
import re

import numpy as np

from otclab.book.scenarios import scenario_grid
from otclab.book.synthetic import synthetic_book, synthetic_market
from otclab.cli._progress import Progress
from otclab.cli.main import main


class _Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def test_progress_lines_give_the_time_left_at_the_rate_so_far():
    out, clock = io.StringIO(), _Clock()
    p = Progress("job", 4, unit="parts", stream=out, tty=False, clock=clock)
    p.note("4 parts")
    clock.t = 10.0
    p.update(1, "part 1/4")
    clock.t = 30.0
    p.update(3)
    clock.t = 200.0
    p.update(4, "part 4/4")
    p.finish("all done")
    assert out.getvalue().splitlines() == [
        "job: 4 parts",
        "job: part 1/4 done (25%), 10.0 s so far, about 30.0 s left",
        "job: 3/4 parts (75%), 30.0 s so far, about 10.0 s left",
        "job: part 4/4 done (100%), 3 min 20 s so far",
        "job: all done in 3 min 20 s",
    ]


def test_progress_without_a_terminal_logs_about_every_tenth():
    out, clock = io.StringIO(), _Clock()
    p = Progress("pass", 100, unit="tasks", stream=out, tty=False, every=0.1, clock=clock)
    cb = p.tasks()
    for k in range(1, 101):
        clock.t = float(k)
        cb(k, 100)
    lines = out.getvalue().splitlines()
    assert 10 <= len(lines) <= 11
    assert lines[1] == "pass: 11/100 tasks (11%), 11.0 s so far, about 89.0 s left"
    assert lines[0] == "pass: 1/100 tasks (1%), 1.0 s so far"
    assert lines[-1] == "pass: 100/100 tasks (100%), 100.0 s so far"


def test_book_scenarios_on_cpu_in_parts_matches_one_pass(tmp_path, capsys):
    book = synthetic_book(5, seed=3)
    market = synthetic_market()
    (tmp_path / "book.json").write_text(json.dumps(book))
    (tmp_path / "market.json").write_text(json.dumps(market))
    code = main(["book", "scenarios", str(tmp_path / "book.json"), "--market", str(tmp_path / "market.json"),
                 "--device", "cpu", "--paths", "1000", "--spot-steps", "3", "--vol-steps", "1", "--vol-range", "0",
                 "--json", "--out", str(tmp_path / "long.csv")])
    captured = capsys.readouterr()
    assert code == 0
    lines = captured.err.splitlines()
    assert lines[0] == "book scenarios: 5 contracts, 3 spot x 1 vol shifts, cpu, in 5 parts of about equal expected time"
    steps = [ln for ln in lines if re.match(r"book scenarios: part \d/5 done \(\d+%\), [\d.]+ s so far", ln)]
    assert len(steps) == 5 and steps[-1].startswith("book scenarios: part 5/5 done (100%)")
    assert all("left" in ln for ln in steps[:-1])
    assert re.match(r"book scenarios: 5 contracts revalued \(\d by the batched PDE, \d by Monte Carlo or their own "
                    r"engine\) in [\d.]+ s$", lines[-1])
    grid = json.loads(captured.out)
    _, mat = scenario_grid(book, market, np.linspace(-0.3, 0.3, 3), np.array([0.0]), paths=1000, device="cpu")
    np.testing.assert_allclose(np.array(grid["pnl"]), mat.values, rtol=1e-12, atol=1e-6)
    ids = [line.split(",")[0] for line in (tmp_path / "long.csv").read_text().splitlines()[1:]]
    assert ids == [c["id"] for c in book for _ in range(3)]


def test_a_bad_contract_late_in_the_book_is_refused_before_any_part_runs(tmp_path, capsys):
    book = synthetic_book(4, seed=3)
    book[3]["id"] = book[0]["id"]
    (tmp_path / "book.json").write_text(json.dumps(book))
    (tmp_path / "market.json").write_text(json.dumps(synthetic_market()))
    code = main(["book", "scenarios", str(tmp_path / "book.json"), "--market", str(tmp_path / "market.json"),
                 "--device", "cpu", "--paths", "1000", "--spot-steps", "3", "--vol-steps", "1"])
    err = capsys.readouterr().err
    assert code == 2 and f"book[3].id: duplicate contract id {book[0]['id']!r} (also book[0])" in err
    assert "part 1/" not in err


def test_book_price_says_what_it_does_and_shows_delta_three_ways(tmp_path, capsys):
    book = synthetic_book(3, seed=5)
    (tmp_path / "book.json").write_text(json.dumps(book))
    (tmp_path / "market.json").write_text(json.dumps(synthetic_market()))
    code = main(["book", "price", str(tmp_path / "book.json"), "--market", str(tmp_path / "market.json"),
                 "--device", "cpu", "--paths", "2000"])
    captured = capsys.readouterr()
    assert code == 0
    err = captured.err.splitlines()
    assert err[0].startswith("book price: 3 contracts, 2,000 paths, cpu")
    assert re.match(r"book price: 3 contracts priced in [\d.]+ s$", err[-1])
    assert any(re.match(r"book price: \d+/\d+ tasks \(100%\)", ln) for ln in err)
    header = captured.out.splitlines()[0].split("  ")
    cols = [h.strip() for h in header if h.strip()]
    i = cols.index("delta (pt)")
    assert cols[i + 1:i + 3] == ["cash delta CNY", "delta % notional"]
