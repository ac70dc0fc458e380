"""The tutorial notebooks run top to bottom through papermill (as a user would run them)."""
import json
from pathlib import Path

import papermill as pm
import pytest

NB = Path(__file__).resolve().parents[2] / "notebooks"


def _outputs(path):
    nb = json.loads(Path(path).read_text())
    return [o for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])]


def test_quickstart(tmp_path):
    out = tmp_path / "quickstart.ipynb"
    pm.execute_notebook(str(NB / "quickstart.ipynb"), str(out), parameters={"paths": 20_000},
                        cwd=str(NB), kernel_name="python3", progress_bar=False)
    outs = _outputs(out)
    assert not [o for o in outs if o["output_type"] == "error"]
    assert not [o for o in outs if o.get("name") == "stderr"]           # no warning in a new user's first output
    assert any("image/png" in o.get("data", {}) for o in outs)           # the convergence plot
    text = "".join("".join(o["text"]) for o in outs if o.get("name") == "stdout")
    assert "fair coupon" in text


def test_walkthrough_adds_a_structure_without_code_changes(tmp_path):
    out = tmp_path / "walkthrough.ipynb"
    pm.execute_notebook(str(NB / "new_structure_walkthrough.ipynb"), str(out),
                        parameters={"paths": 20_000, "out_dir": str(tmp_path / "runs")}, cwd=str(NB),
                        kernel_name="python3", progress_bar=False)
    log = (tmp_path / "runs" / "validations.jsonl").read_text().splitlines()
    assert json.loads(log[-1])["template"] == "airbag" and json.loads(log[-1])["status"] == "pass"
    assert list((tmp_path / "runs").glob("airbag-*.ipynb"))


@pytest.mark.parametrize("name", ["quickstart.ipynb", "new_structure_walkthrough.ipynb", "book.ipynb"])
def test_notebooks_hold_no_pricing_logic(name):
    # Apps call otclab: no payoff maths (np.maximum / exp of paths) in the tutorial notebooks.
    src = "".join("".join(c["source"]) for c in json.loads((NB / name).read_text())["cells"])
    assert "np.maximum" not in src and "def payoff" not in src


def test_book_notebook_reads_the_store(tmp_path):
    out = tmp_path / "book.ipynb"
    pm.execute_notebook(str(NB / "book.ipynb"), str(out),
                        parameters={"db_url": f"sqlite:///{tmp_path / 'store' / 'otclab.db'}", "demo_trades": 200,
                                    "paths": 300}, cwd=str(NB), kernel_name="python3", progress_bar=False)
    outs = _outputs(out)
    assert not [o for o in outs if o["output_type"] == "error"]
    assert any("image/png" in o.get("data", {}) for o in outs)          # the explain plot
    text = "".join("".join(o["text"]) for o in outs if o.get("name") == "stdout")
    assert "snapshot 2 of 2025-12-31" in text and "state:" in text
