"""Templates load from their tagged cells only, in isolated namespaces, identified by content hash."""
import shutil

import nbformat
import pytest

from otclab.core.errors import TemplateError
from otclab.pricing import price
from otclab.templates.loader import BUILTIN_DIR, available, get_template, load_notebook

from builders import market, terms

BUILTINS = {"vanilla", "digital", "barrier", "sharkfin", "double_sharkfin", "asian", "snowball", "phoenix"}


def test_builtins_are_listed_with_engines():
    assert BUILTINS <= set(available())
    assert get_template("snowball").engines() == ["mc", "pde"]
    assert get_template("vanilla").engines() == ["mc", "pde", "analytic"]


def _copy(tmp_path, name="vanilla"):
    dst = tmp_path / f"{name}.ipynb"
    shutil.copy(BUILTIN_DIR / f"{name}.ipynb", dst)
    return dst


def test_only_tagged_cells_run_and_namespaces_are_isolated(tmp_path):
    path = _copy(tmp_path)
    nb = nbformat.read(str(path), 4)
    nb.cells.insert(0, nbformat.v4.new_code_cell("raise RuntimeError('untagged cells must not run')"))
    nbformat.write(nb, str(path))
    a = load_notebook(path)
    b = get_template("vanilla")
    assert a.name == b.name and a.namespace is not b.namespace
    a.namespace["intrinsic"] = None     # a change in one template's namespace ...
    assert callable(b.namespace["intrinsic"])  # ... does not leak into another


def test_version_is_a_hash_of_the_tagged_cells(tmp_path):
    path = _copy(tmp_path)
    v0 = load_notebook(path).version
    nb = nbformat.read(str(path), 4)
    nb.cells.append(nbformat.v4.new_markdown_cell("a note that changes nothing"))
    nbformat.write(nb, str(path))
    assert load_notebook(path).version == v0
    for cell in nb.cells:
        if "payoff" in cell.metadata.get("tags", []):
            cell.source += "\n# a comment is a change of the payoff cell\n"
    nbformat.write(nb, str(path))
    assert load_notebook(path).version != v0


def test_user_template_folder_on_the_search_path(tmp_path, monkeypatch):
    path = _copy(tmp_path)
    monkeypatch.setenv("OTCLAB_PAYOFFS", str(tmp_path))
    assert available()["vanilla"] == path
    res = price({"template": str(path), "terms": terms(option_type="put", strike=1.0), "market": market()},
                engine="analytic")
    assert res.template == "vanilla" and res.value > 0


@pytest.mark.parametrize("mutation,message", [
    (lambda nb: nb.cells.__setitem__(slice(None), [c for c in nb.cells if "payoff" not in c.metadata.get("tags", [])]),
     "no cell tagged 'payoff'"),
    (lambda nb: [c for c in nb.cells if "schema" in c.metadata.get("tags", [])][0].__setitem__("source", "x = 1/0"),
     "the 'schema' cell failed: ZeroDivisionError"),
])
def test_malformed_templates_are_refused(tmp_path, mutation, message):
    path = _copy(tmp_path)
    nb = nbformat.read(str(path), 4)
    mutation(nb)
    nbformat.write(nb, str(path))
    with pytest.raises(TemplateError, match=message):
        load_notebook(path)


def test_not_a_notebook(tmp_path):
    bad = tmp_path / "x.ipynb"
    bad.write_text("not json")
    with pytest.raises(TemplateError, match="not a readable notebook"):
        load_notebook(bad)
