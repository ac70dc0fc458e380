"""``otclab payoffs compare``: two templates of one structure on agreed cases."""
import json

import pytest
import shutil

import nbformat

from otclab.cli.main import main
from otclab.templates.loader import BUILTIN_DIR

from builders import market, terms


def _cases(tmp_path):
    cases = [{"name": f"K{k}", "terms": terms(option_type="call", strike=k), "market": market()} for k in (0.9, 1.0, 1.1)]
    p = tmp_path / "cases.jsonl"
    p.write_text("\n".join(json.dumps(c) for c in cases))
    return p


@pytest.fixture(autouse=True)
def risk_folder(tmp_path, monkeypatch):
    # risk control's own templates live in a folder the platform trusts (OTCLAB_PAYOFFS)
    monkeypatch.setenv("OTCLAB_PAYOFFS", str(tmp_path))


def _risk_copy(tmp_path, edit=None):
    path = tmp_path / "risk_vanilla.ipynb"
    shutil.copy(BUILTIN_DIR / "vanilla.ipynb", path)
    nb = nbformat.read(str(path), 4)
    for cell in nb.cells:
        if "payoff" in cell.metadata.get("tags", []) and edit:
            cell.source = edit(cell.source)
    nbformat.write(nb, str(path))
    return path


def test_same_structure_agrees(tmp_path, capsys):
    code = main(["payoffs", "compare", "vanilla", str(_risk_copy(tmp_path)), "--cases", str(_cases(tmp_path)),
                 "--paths", "20000", "--json"])
    rows = json.loads(capsys.readouterr().out)
    assert code == 0 and [r["case"] for r in rows] == ["K0.9", "K1.0", "K1.1"] and all(r["ok"] for r in rows)
    assert all(r["diff"] == 0 for r in rows)          # same random numbers, same payoff


def test_a_different_payoff_is_reported(tmp_path, capsys):
    wrong = _risk_copy(tmp_path, lambda src: src.replace("xp.maximum(s - t.strike, 0.0)", "xp.maximum(s - t.strike, 0.0) * 1.05"))
    code = main(["payoffs", "compare", "vanilla", str(wrong), "--cases", str(_cases(tmp_path)), "--paths", "20000"])
    out = capsys.readouterr().out
    assert code == 1 and "NO" in out


def test_bad_cases_file(tmp_path, capsys):
    bad = tmp_path / "c.json"
    bad.write_text(json.dumps([{"terms": {}}]))
    assert main(["payoffs", "compare", "vanilla", "vanilla", "--cases", str(bad)]) == 2
    assert "cases[0]: each case needs 'terms' and 'market'" in capsys.readouterr().err
