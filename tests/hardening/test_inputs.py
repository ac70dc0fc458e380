"""Hostile and careless inputs to pricing, solving and the book (issue: hardening, classes 1, 3, 6
and 8): code execution through the template field, non-finite market data, meaningless settings,
errors that do not say which input is wrong. Each answer is one clear line and exit 2, or a
correct result; nothing runs from an untrusted notebook, nothing prints a non-finite number."""
import json
import math
import os
from pathlib import Path

import pytest

from otclab.cli.main import main
from otclab.core.errors import OtcError

MARKET = {"valuation_date": "2025-06-03", "spot": 5600.0, "rate": 0.016, "div_yield": 0.03, "vol": 0.22}
TERMS = {"underlying": "000905.SH", "notional": 1e7, "initial_price": 5600.0, "start_date": "2025-06-03",
         "tenor_months": 12, "option_type": "call", "strike": 1.0}
REQ = {"template": "vanilla", "terms": TERMS, "market": MARKET}


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def evil_notebook(folder: Path, marker: Path) -> Path:
    """A template notebook whose schema cell writes ``marker``: proof that it ran."""
    src = json.loads((Path(__file__).resolve().parents[2] / "payoffs" / "vanilla.ipynb").read_text())
    for cell in src["cells"]:
        if "schema" in cell.get("metadata", {}).get("tags", []):
            cell["source"] = f"open({str(marker)!r}, 'w').write('ran')\n" + "".join(cell["source"])
    folder.mkdir(parents=True, exist_ok=True)
    nb = folder / "vanilla_evil.ipynb"
    nb.write_text(json.dumps(src), encoding="utf-8")
    return nb


# ---- class 1: templates load only from trusted folders ----------------------------------------


def test_a_request_naming_a_notebook_outside_the_template_folders_runs_nothing(tmp_path, capsys):
    marker = tmp_path / "ran.txt"
    nb = evil_notebook(tmp_path / "downloads", marker)
    for template in (str(nb), os.path.relpath(nb)):
        with pytest.raises(OtcError, match="not in a trusted template folder") as e:
            from otclab.pricing import price

            price({**REQ, "template": template})
        assert e.value.field == "template"
    code, _, err = run(capsys, "payoffs", "show", str(nb))
    assert code == 2 and "not in a trusted template folder" in err
    book = tmp_path / "book.json"
    book.write_text(json.dumps([{"template": str(nb), "terms": TERMS}]), encoding="utf-8")
    mkt = tmp_path / "m.json"
    mkt.write_text(json.dumps(MARKET), encoding="utf-8")
    code, _, err = run(capsys, "book", "price", str(book), "--market", str(mkt), "--paths", "100")
    assert code == 2 and "not in a trusted template folder" in err
    assert not marker.exists()


def test_a_link_inside_a_trusted_folder_to_a_notebook_outside_is_refused(tmp_path, monkeypatch):
    marker = tmp_path / "ran.txt"
    nb = evil_notebook(tmp_path / "elsewhere", marker)
    trusted = tmp_path / "desk_templates"
    trusted.mkdir()
    (trusted / "linked.ipynb").symlink_to(nb)
    monkeypatch.setenv("OTCLAB_PAYOFFS", str(trusted))
    from otclab.pricing import price

    with pytest.raises(OtcError, match="not in a trusted template folder"):
        price({**REQ, "template": str(trusted / "linked.ipynb")})
    assert not marker.exists()


def test_a_notebook_inside_a_trusted_folder_may_be_named_by_path(tmp_path, monkeypatch):
    src = Path(__file__).resolve().parents[2] / "payoffs" / "vanilla.ipynb"
    folder = tmp_path / "desk_templates"
    folder.mkdir()
    (folder / "vanilla.ipynb").write_text(src.read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setenv("OTCLAB_PAYOFFS", str(folder))
    from otclab.pricing import price

    assert price({**REQ, "template": str(folder / "vanilla.ipynb")}).engine == "analytic"


# ---- class 3: non-finite market data ------------------------------------------------------------


@pytest.mark.parametrize("key, value, field", [
    ("div_yield", float("nan"), "market.div_yield"),
    ("rate", float("inf"), "market.rate"),
    ("rate", {"tenors": ["3M", "1Y"], "rates": [0.01, float("nan")]}, "market.rate.rates"),
    ("vol", float("nan"), "market.vol"),
    ("div_yields", {"000905.SH": float("-inf")}, "market.div_yields.000905.SH"),
])
def test_non_finite_market_data_is_refused_naming_the_field(key, value, field):
    from otclab.pricing import price, solve

    mkt = {k: v for k, v in MARKET.items() if not (key == "div_yields" and k == "div_yield")}
    req = {**REQ, "market": {**mkt, key: value}}
    for call in (lambda: price(req), lambda: solve({**req, "template": "vanilla"}, "strike", target=1e5)):
        with pytest.raises(OtcError) as e:
            call()
        assert e.value.field.startswith(field), e.value.field
        assert "finite" in str(e.value)


def test_non_finite_fixings_are_refused():
    from otclab.pricing import price

    req = {"template": "snowball", "market": MARKET,
           "terms": {**{k: TERMS[k] for k in ("underlying", "notional", "initial_price", "tenor_months")},
                     "start_date": "2025-03-03", "ko_barrier": 1.03, "ki_barrier": 0.75, "coupon": 0.15},
           "fixings": {"2025-03-04": float("nan")}}
    with pytest.raises(OtcError, match="positive finite") as e:
        price(req, engine="pde")
    assert e.value.field == "fixings.2025-03-04"


# ---- class 6: meaningless settings ---------------------------------------------------------------


@pytest.fixture
def small_book(tmp_path):
    from otclab.book.synthetic import synthetic_book, synthetic_market

    (tmp_path / "book.json").write_text(json.dumps(synthetic_book(3, seed=4)), encoding="utf-8")
    (tmp_path / "market.json").write_text(json.dumps(synthetic_market()), encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize("args, message", [
    (["--paths", "0"], "paths: must be at least 2"),
    (["--paths", "10000000000"], "paths: must be at most"),
    (["--out", "/nonexistent/folder/risk.csv"], "out: the folder /nonexistent/folder does not exist"),
])
def test_book_price_refuses_meaningless_settings_before_pricing(small_book, capsys, args, message):
    code, out, err = run(capsys, "book", "price", str(small_book / "book.json"), "--market",
                         str(small_book / "market.json"), *args)
    assert code == 2 and message in err and out == "" and "Traceback" not in err


@pytest.mark.parametrize("args, message", [
    (["--spot-range", "1.0"], "spot_range: must be in (0, 0.95]"),
    (["--spot-range", "nan"], "spot_range: must be in (0, 0.95]"),
    (["--vol-range", "-0.05"], "vol_range: must be in [0, 0.5]"),
    (["--spot-steps", "0"], "spot_steps: must be between 1 and 201"),
    (["--vol-steps", "100000"], "vol_steps: must be between 1 and 101"),
    (["--paths", "1"], "paths: must be at least 2"),
])
def test_book_scenarios_refuses_meaningless_settings_before_pricing(small_book, capsys, args, message):
    code, out, err = run(capsys, "book", "scenarios", str(small_book / "book.json"), "--market",
                         str(small_book / "market.json"), *args)
    assert code == 2 and message in err and "Traceback" not in err


def test_price_refuses_more_paths_than_the_cap(capsys, tmp_path):
    f = tmp_path / "r.json"
    f.write_text(json.dumps(REQ), encoding="utf-8")
    code, _, err = run(capsys, "price", str(f), "--engine", "mc", "--paths", "10000000000")
    assert code == 2 and "paths: must be at most" in err


def test_duplicate_contract_ids_are_refused(small_book, capsys):
    book = json.loads((small_book / "book.json").read_text())
    book[2]["id"] = book[0]["id"]
    (small_book / "book.json").write_text(json.dumps(book), encoding="utf-8")
    code, _, err = run(capsys, "book", "price", str(small_book / "book.json"), "--market",
                       str(small_book / "market.json"), "--paths", "100")
    assert code == 2 and f"book[2].id: duplicate contract id {book[0]['id']!r} (also book[0])" in err


def test_ids_are_not_written_raw_into_csv(small_book, capsys):
    book = json.loads((small_book / "book.json").read_text())
    book[0]["id"] = '=HYPERLINK("http://evil","x")'
    (small_book / "book.json").write_text(json.dumps(book), encoding="utf-8")
    out = small_book / "risk.csv"
    code, _, err = run(capsys, "book", "price", str(small_book / "book.json"), "--market",
                       str(small_book / "market.json"), "--paths", "200", "--out", str(out), "--no-greeks")
    assert code == 0, err
    cell = out.read_text(encoding="utf-8").splitlines()[1].split(",")[0]
    assert cell.startswith("\"'=") or cell.startswith("'="), cell


# ---- class 8: errors that say which input is wrong -------------------------------------------------


@pytest.mark.parametrize("content, message", [
    ("[]", "request: a request is a JSON object with template, terms, market; got a list"),
    ("\ufeff" + json.dumps(REQ), None),                                   # a byte-order mark is fine
    ("   ", "request: no request in the file"),
    ('"vanilla"', "request: a request is a JSON object with template, terms, market; got text"),
])
def test_a_request_file_is_read_as_json_never_as_a_path(tmp_path, capsys, content, message):
    f = tmp_path / "r.json"
    f.write_text(content, encoding="utf-8")
    code, out, err = run(capsys, "price", str(f), "--json")
    if message is None:
        assert code == 0 and json.loads(out)["engine"] == "analytic"
    else:
        assert code == 2 and err.strip() == f"error: {message}", err


def test_a_bad_contract_in_a_book_is_named_by_index_and_id(small_book, capsys):
    book = json.loads((small_book / "book.json").read_text())
    book[1]["terms"]["notional"] = -5
    (small_book / "book.json").write_text(json.dumps(book), encoding="utf-8")
    code, _, err = run(capsys, "book", "price", str(small_book / "book.json"), "--market",
                       str(small_book / "market.json"), "--paths", "100")
    assert code == 2 and f"book[1] ({book[1]['id']})" in err and "terms.notional" in err
    code, out, err = run(capsys, "book", "price", str(small_book / "book.json"), "--market",
                         str(small_book / "market.json"), "--paths", "100", "--skip-bad")
    assert code == 0 and "1 contract(s) not priced" in out and book[1]["id"] in out


def test_a_market_without_an_underlying_names_the_contracts_that_need_it(small_book, capsys):
    book = json.loads((small_book / "book.json").read_text())
    mkt = json.loads((small_book / "market.json").read_text())
    u = book[0]["terms"]["underlying"]
    del mkt["spots"][u]
    (small_book / "market.json").write_text(json.dumps(mkt), encoding="utf-8")
    need = [c["id"] for c in book if c["terms"]["underlying"] == u]
    code, _, err = run(capsys, "book", "price", str(small_book / "book.json"), "--market",
                       str(small_book / "market.json"), "--paths", "100")
    assert code == 2 and f"no spot for {u}" in err and all(i in err for i in need)


def test_results_are_never_non_finite():
    from otclab.pricing import price

    r = price({**REQ, "terms": {**TERMS, "strike": 9.99}}, greeks=True)
    assert math.isfinite(r.value) and all(math.isfinite(v) for v in r.greeks.values())
