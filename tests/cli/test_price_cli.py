"""``otclab price`` / ``solve``: JSON output, and one clear line + exit 2 for each class of bad input."""
import json
import subprocess
import sys

import pytest

from otclab.cli.main import main

from builders import market, terms

GOOD = {"template": "vanilla", "terms": terms(option_type="call", strike=1.0), "market": market()}


def run(capsys, args, stdin=None, monkeypatch=None):
    if stdin is not None:
        import io

        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def write(tmp_path, obj, name="req.json"):
    p = tmp_path / name
    p.write_text(obj if isinstance(obj, str) else json.dumps(obj), encoding="utf-8")
    return str(p)


def test_price_json_output(tmp_path, capsys):
    code, out, err = run(capsys, ["price", write(tmp_path, GOOD), "--engine", "analytic", "--greeks", "--json"])
    assert code == 0, err
    res = json.loads(out)
    assert res["engine"] == "analytic" and res["template"] == "vanilla" and len(res["version"]) == 12
    assert 50_000 < res["value"] < 80_000
    assert set(res["greeks"]) == {"delta", "gamma", "cash_delta", "delta_pct", "cash_gamma_1pct", "vega", "theta", "rho"}
    assert res["greeks"]["delta"] * 6000 == pytest.approx(res["greeks"]["cash_delta"])


def test_price_from_stdin_with_mc(capsys, monkeypatch):
    code, out, _ = run(capsys, ["price", "-", "--engine", "mc", "--paths", "20000", "--seed", "3", "--json"],
                       stdin=json.dumps(GOOD), monkeypatch=monkeypatch)
    res = json.loads(out)
    assert code == 0 and res["stderr"] > 0 and res["details"]["paths"] == 20000


def test_solve_fair_participation(tmp_path, capsys):
    req = {"template": "sharkfin", "market": market(),
           "terms": terms(option_type="call", barrier=1.15, participation=1.0, form="note")}
    code, out, _ = run(capsys, ["solve", write(tmp_path, req), "--for", "participation", "--target", "1000000",
                                "--json"])
    assert code == 0
    assert 0 < json.loads(out)["value"] < 5


BAD = [
    ("unknown template", {**GOOD, "template": "snowbal"}, "template: unknown template 'snowbal'; available:"),
    ("missing field", {**GOOD, "terms": {k: v for k, v in GOOD["terms"].items() if k != "strike"}},
     "terms.strike: is required"),
    ("out of range", {**GOOD, "terms": {**GOOD["terms"], "strike": -1}}, "terms.strike: must be > 0"),
    ("wrong type", {**GOOD, "terms": {**GOOD["terms"], "notional": "lots"}}, "terms.notional: expected a number"),
    ("bad choice", {**GOOD, "terms": {**GOOD["terms"], "option_type": "straddle"}},
     "terms.option_type: must be one of call, put"),
    ("typo in a field", {**GOOD, "terms": {**GOOD["terms"], "strik": 1.0}}, "did you mean 'strike'?"),
    ("barrier on the wrong side", {"template": "sharkfin", "market": market(),
                                   "terms": terms(option_type="call", strike=1.0, barrier=0.9)},
     "terms.barrier: a call sharkfin needs barrier above strike"),
    ("knock-in above knock-out", {"template": "snowball", "market": market(),
                                  "terms": terms(ko_barrier=1.0, ki_barrier=1.05, coupon=0.1)},
     "terms.ki_barrier: must be below ko_barrier"),
    ("maturity before valuation", {**GOOD, "market": market(valuation_date="2026-01-05")},
     "terms.maturity_date: the trade matures on"),
    ("bad date", {**GOOD, "terms": {**GOOD["terms"], "start_date": "03/03/2025"}},
     "terms.start_date: expected a date as YYYY-MM-DD"),
    ("bad underlying", {**GOOD, "terms": {**GOOD["terms"], "underlying": "CSI500"}},
     "terms.underlying: expected an exchange code"),
    ("missing market field", {**GOOD, "market": {k: v for k, v in market().items() if k != "vol"}},
     "market.vol: is required"),
    ("seasoned without state", {"template": "snowball",
                                "market": market(valuation_date="2025-06-03"),
                                "terms": terms(tenor_months=12, ko_barrier=1.0, ki_barrier=0.7, coupon=0.1)},
     "state.ki_hit: seasoned trade"),
    ("not JSON", "{template: vanilla", "request: not valid JSON"),
    ("unknown request key", {**GOOD, "termz": {}}, "request: unknown key(s) ['termz']"),
]


@pytest.mark.parametrize("label,req,message", BAD, ids=[b[0] for b in BAD])
def test_bad_input_one_line_exit_2(tmp_path, capsys, label, req, message):
    code, out, err = run(capsys, ["price", write(tmp_path, req), "--engine", "pde"])
    assert code == 2
    assert message in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1 and out == ""


@pytest.mark.parametrize("args,message", [
    (["--engine", "fourier"], "engine: unknown engine 'fourier'; allowed: auto, analytic, mc, pde"),
    (["--engine", "analytic"], "template 'snowball' has no analytic formula"),
    (["--device", "tpu"], "device: unknown device 'tpu'; allowed: cpu, gpu"),
    (["--paths", "1"], "paths: must be at least 2"),
])
def test_bad_engine_options(tmp_path, capsys, args, message, snowball_request):
    code, _, err = run(capsys, ["price", write(tmp_path, snowball_request), *args])
    assert code == 2 and message in err


def test_missing_file_and_real_process_exit_code(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "otclab", "price", str(tmp_path / "nope.json")],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: request: cannot read") and "Traceback" not in proc.stderr


def test_gpu_requested_without_cupy_is_a_clear_error(tmp_path, capsys, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_cupy(name, *a, **kw):
        if name == "cupy":
            raise ImportError("No module named 'cupy'")
        return real_import(name, *a, **kw)

    monkeypatch.setattr(builtins, "__import__", no_cupy)
    code, _, err = run(capsys, ["price", write(tmp_path, GOOD), "--device", "gpu"])
    assert code == 2 and "device: device 'gpu' needs CuPy and an NVIDIA GPU" in err


def test_seed_reproduces_and_antithetic_can_be_switched_off(tmp_path, capsys):
    args = ["price", write(tmp_path, GOOD), "--engine", "mc", "--paths", "4000", "--seed", "11", "--json"]
    a = json.loads(run(capsys, args)[1])
    b = json.loads(run(capsys, args)[1])
    c = json.loads(run(capsys, args + ["--no-antithetic"])[1])
    assert a["value"] == b["value"] and c["value"] != a["value"]


@pytest.mark.parametrize("template, extra, engine", [
    ("vanilla", {"option_type": "call", "strike": 1.0}, "analytic"),          # exact closed form
    ("barrier", {"option_type": "call", "strike": 1.0, "barrier": 1.2, "barrier_type": "up_out"}, "pde"),  # BGK is approximate
    ("snowball", {"ko_barrier": 1.03, "ki_barrier": 0.75, "coupon": 0.15, "lockup_months": 3}, "pde"),
])
def test_no_engine_named_picks_the_best_the_template_offers(tmp_path, capsys, template, extra, engine):
    req = {"template": template, "terms": terms(**extra), "market": market()}
    code, out, err = run(capsys, ["price", write(tmp_path, req), "--json"])
    assert code == 0, err
    res = json.loads(out)
    assert res["engine"] == engine and res["stderr"] is None
    if engine == "analytic":
        from otclab.pricing import price

        assert res["value"] == price(req, engine="analytic").value
