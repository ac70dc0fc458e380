"""``otclab payoffs validate`` runs every template notebook through papermill; a broken one fails."""
import json
import shutil
import subprocess
import sys

import nbformat

from otclab.templates.loader import BUILTIN_DIR, available


def otclab(*args, env=None, cwd=None):
    return subprocess.run([sys.executable, "-m", "otclab", *args], capture_output=True, text=True, env=env, cwd=cwd)


def test_every_builtin_template_validates(tmp_path):
    proc = otclab("payoffs", "validate", "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert {r["template"] for r in report} == set(available())
    assert all(r["status"] == "pass" for r in report)
    assert all((tmp_path / f"{r['template']}-{r['version']}.ipynb").exists() for r in report)
    # validation cells recorded their comparisons
    snow = next(r for r in report if r["template"] == "snowball")
    keys = {rec["key"] for rec in snow["records"]}
    assert {"mc_vs_reference", "pde_vs_reference", "fair_coupon"} <= keys
    listed = otclab("payoffs", "list", "--out", str(tmp_path), "--json")
    assert all(row["validated"] == "pass" for row in json.loads(listed.stdout))


def edited_copy(tmp_path, name: str, tag: str, old: str, new: str):
    """A copy of built-in template ``name`` whose ``tag`` cell has ``old`` replaced by ``new``."""
    src = tmp_path / "src"
    src.mkdir(exist_ok=True)
    path = src / f"{name}.ipynb"
    shutil.copy(BUILTIN_DIR / f"{name}.ipynb", path)
    nb = nbformat.read(str(path), 4)
    cells = [c for c in nb.cells if tag in c.metadata.get("tags", [])]
    assert any(old in c.source for c in cells), f"{old!r} not in the {tag} cell of {name}"
    for cell in cells:
        cell.source = cell.source.replace(old, new)
    nbformat.write(nb, str(path))
    return path


def test_a_broken_template_fails_validation(tmp_path):
    # a wrong payoff: pays on the wrong side of the strike
    path = edited_copy(tmp_path, "digital", "payoff", "s_T > t.strike", "s_T < t.strike")
    out = tmp_path / "out"
    proc = otclab("payoffs", "validate", str(path), "--out", str(out))
    assert proc.returncode == 1
    assert "FAIL digital" in proc.stdout and "mc_vs_analytic" in proc.stdout
    log = [json.loads(x) for x in (out / "validations.jsonl").read_text().splitlines()]
    assert log[-1]["status"] == "fail" and log[-1]["template"] == "digital"


def test_a_fused_program_out_of_step_with_its_payoff_fails(tmp_path):
    # the kernel's program pays on a strike 5% away from the payoff cell's
    path = edited_copy(tmp_path, "vanilla", "fused", '"strike": t.strike', '"strike": t.strike * 1.05')
    proc = otclab("payoffs", "validate", str(path), "--out", str(tmp_path / "out"))
    assert proc.returncode == 1 and "fused_vs_pde" in proc.stdout
