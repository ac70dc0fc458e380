"""Load payoff templates from notebooks: only the tagged cells, each template in its own namespace.

A template notebook tags its code cells (cell metadata ``tags``):

- ``schema``   — ``TEMPLATE`` (name), ``FIELDS`` (list of ``Field``), ``schedule(terms, cal)``
                 returning ``{name: [dates]}``; optional ``DESCRIPTION``, ``check(terms)``,
                 ``VOL_MONEYNESS(terms)`` (reference strike for the vol surface), ``LINEAR_IN``.
- ``state``    — optional ``initial_state(ctx)``: the trade's state from ``ctx.state`` / fixings.
- ``payoff``   — ``payoff(s, ctx)``: present value per simulated path as a fraction of notional.
- ``pde``      — optional ``pde_states``, ``pde_terminal``, ``pde_event``, ``pde_initial_state``.
- ``analytic`` — optional ``analytic(ctx)``: value as a fraction of notional.

Other cells (``parameters`` for papermill, ``validation``, prose, plots) are not loaded. A
template is identified by name and the SHA-256 of its tagged cells' sources (``version``).
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from ..core.errors import TemplateError
from .common import COMMON_FIELDS, check_common
from .schema import Schema

CODE_TAGS = ("schema", "state", "payoff", "pde", "analytic", "fused")
BUILTIN_DIR = Path(__file__).resolve().parents[2] / "payoffs"


@dataclass
class Template:
    name: str
    version: str
    path: Path | None
    namespace: dict = field(repr=False)
    schema: Schema = field(repr=False)
    description: str = ""

    def get(self, hook: str, default=None):
        return self.namespace.get(hook, default)

    @property
    def has_pde(self) -> bool:
        return callable(self.get("pde_terminal"))

    @property
    def has_analytic(self) -> bool:
        return callable(self.get("analytic"))

    @property
    def id(self) -> str:
        return f"{self.name}@{self.version}"

    def engines(self) -> list[str]:
        return ["mc"] + (["pde"] if self.has_pde else []) + (["analytic"] if self.has_analytic else [])


def tagged_sources(nb: dict) -> list[tuple[str, str]]:
    """(tag, source) of the code cells carrying one of ``CODE_TAGS``, in notebook order."""
    out = []
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        tags = set(cell.get("metadata", {}).get("tags", []))
        src = cell.get("source", "")
        src = "".join(src) if isinstance(src, list) else src
        for tag in CODE_TAGS:
            if tag in tags:
                out.append((tag, src))
                break
    return out


def source_version(sources: list[tuple[str, str]]) -> str:
    """The version of a template with these tagged sources: the first 12 hex digits of the SHA-256
    over each cell's tag and source, computed without running anything (a scheduler watching the
    template folders hashes notebooks it has not trusted to load yet)."""
    digest = hashlib.sha256()
    for tag, src in sources:
        digest.update(tag.encode() + b"\0" + src.encode() + b"\0")
    return digest.hexdigest()[:12]


def template_from_sources(sources: list[tuple[str, str]], path: Path | None = None) -> Template:
    """Execute the tagged sources in a fresh namespace and wrap them as a ``Template``."""
    where = str(path) if path else "<template>"
    if not any(tag == "schema" for tag, _ in sources):
        raise TemplateError(f"{where}: no cell tagged 'schema'", "template")
    if not any(tag == "payoff" for tag, _ in sources):
        raise TemplateError(f"{where}: no cell tagged 'payoff'", "template")
    ns: dict = {"__name__": f"otclab_template_{abs(hash(where))}", "__file__": where}
    for i, (tag, src) in enumerate(sources):
        try:
            exec(compile(src, f"{where}[{tag} cell {i}]", "exec"), ns)
        except Exception as exc:
            raise TemplateError(f"{where}: the {tag!r} cell failed: {type(exc).__name__}: {exc}", "template") from exc
    name = ns.get("TEMPLATE")
    if not isinstance(name, str) or not name:
        raise TemplateError(f"{where}: the schema cell must set TEMPLATE = '<name>'", "template")
    for hook in ("schedule", "payoff"):
        if not callable(ns.get(hook)):
            raise TemplateError(f"{where}: template {name!r} must define {hook}(...)", "template")
    fields = list(COMMON_FIELDS) + list(ns.get("FIELDS", []))
    names = [f.name for f in fields]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise TemplateError(f"{where}: field(s) declared twice: {sorted(dup)}", "template")
    own_check = ns.get("check")

    def check(terms):
        check_common(terms)
        return own_check(terms) if callable(own_check) else None

    return Template(name=name, version=source_version(sources), path=path, namespace=ns,
                    schema=Schema(fields, check, name=name), description=ns.get("DESCRIPTION", ""))


def load_notebook(path) -> Template:
    """Load the template defined by the notebook at ``path``."""
    # Read the notebook's JSON directly (nbformat v4): loading needs no Jupyter stack, so
    # pricing runs on machines that only have the numerical libraries (GPU nodes).
    import json

    path = Path(path)
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(nb, dict) or nb.get("nbformat") != 4:
            raise ValueError("not an nbformat 4 notebook")
    except FileNotFoundError:
        raise TemplateError(f"no template notebook at {path}", "template") from None
    except Exception as exc:
        raise TemplateError(f"{path}: not a readable notebook ({exc})", "template") from None
    return template_from_sources(tagged_sources(nb), path)


def template_from_globals(ns: dict) -> Template:
    """A template from a live notebook namespace (interactive use: edit a cell, price at once)."""
    tpl = Template(name=ns["TEMPLATE"], version="live", path=None, namespace=ns,
                   schema=None, description=ns.get("DESCRIPTION", ""))
    own_check = ns.get("check")

    def check(terms):
        check_common(terms)
        return own_check(terms) if callable(own_check) else None

    tpl.schema = Schema(list(COMMON_FIELDS) + list(ns.get("FIELDS", [])), check, name=tpl.name)
    return tpl


def search_path() -> list[Path]:
    """Folders searched for ``*.ipynb`` templates: ``OTCLAB_PAYOFFS`` entries, then payoffs/."""
    extra = [Path(p) for p in os.environ.get("OTCLAB_PAYOFFS", "").split(os.pathsep) if p]
    return extra + [BUILTIN_DIR]


_CACHE: dict = {}


def _cached(path: Path) -> Template:
    key = (str(path.resolve()), path.stat().st_mtime_ns)
    if key not in _CACHE:
        _CACHE[key] = load_notebook(path)
    return _CACHE[key]


_LISTING: dict = {}


def available() -> dict[str, Path]:
    """Template name → notebook path (first found on the search path; file stem is the name).

    Folder listings are cached until a folder's modification time changes (a notebook added
    or removed), so pricing many requests does not re-scan the disk.
    """
    folders = [f for f in search_path() if f.is_dir()]
    key = tuple((str(f), f.stat().st_mtime_ns) for f in folders)
    if key not in _LISTING:
        out: dict[str, Path] = {}
        for folder in folders:
            for nb in sorted(folder.glob("*.ipynb")):
                out.setdefault(nb.stem, nb)
        _LISTING.clear()
        _LISTING[key] = out
    return dict(_LISTING[key])


def trusted(path) -> Path:
    """``path`` resolved (links followed) if it lies inside a trusted template folder (payoffs/ and
    the ``OTCLAB_PAYOFFS`` folders), else ``TemplateError``: loading a template runs its cells, so
    a request, a book or a command names a notebook anywhere else only by copying it into one of
    those folders, which whoever runs the platform controls (README: trust model)."""
    p = Path(path).expanduser().resolve()
    folders = [f.expanduser().resolve() for f in search_path()]
    if not any(p.is_relative_to(f) for f in folders):
        raise TemplateError(f"{path} is not in a trusted template folder ({', '.join(map(str, folders))}); "
                            f"name a template, or add its folder to OTCLAB_PAYOFFS", "template")
    return p


def get_template(name_or_path) -> Template:
    """A template by name (see ``available``) or by the path of a notebook inside a trusted template
    folder (``trusted``); nothing is loaded, so nothing runs, from anywhere else."""
    if isinstance(name_or_path, Template):
        return name_or_path
    s = str(name_or_path)
    if s.endswith(".ipynb"):
        return _cached(trusted(s))
    found = available()
    if s not in found:
        raise TemplateError(f"unknown template {s!r}; available: {', '.join(sorted(found)) or 'none'}",
                            "template")
    tpl = _cached(found[s])
    if tpl.name != s:
        raise TemplateError(f"{found[s]} defines TEMPLATE = {tpl.name!r}, expected {s!r}", "template")
    return tpl


def list_templates() -> list[Template]:
    return [get_template(n) for n in sorted(available())]
