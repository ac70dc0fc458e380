"""Template versions in the store: a booked trade prices with the version it was booked with.

Booking pins the current version of a named template (the SHA-256 prefix of its tagged cells)
and keeps the cells' sources in the ``templates`` table. Later, when the notebook has changed,
the trade's version is rebuilt from those stored sources, so its value never silently moves to
new code. Only templates found by name on the template search path can be registered: a
booking never names a notebook path (that would run code from wherever the path points).
"""
from __future__ import annotations

from sqlalchemy import insert, select

from ..core.errors import TemplateError
from ..templates.loader import Template, get_template, tagged_sources, template_from_sources
from . import tables as T
from .db import now

_BUILT: dict = {}


def _sources_of(tpl: Template) -> list:
    import json

    nb = json.loads(tpl.path.read_text(encoding="utf-8"))
    return [list(x) for x in tagged_sources(nb)]


def current(name: str) -> Template:
    """The named template as its notebook defines it now (by name only, never a path)."""
    if "/" in name or name.endswith(".ipynb"):
        raise TemplateError(f"must be the name of a registered template (not a path); got {name!r}", "template")
    return get_template(name)


def register(conn, tpl: Template) -> None:
    """Keep ``tpl``'s sources in the store (once per version)."""
    have = conn.execute(select(T.templates.c.version).where(T.templates.c.name == tpl.name,
                                                            T.templates.c.version == tpl.version)).first()
    if have is None:
        conn.execute(insert(T.templates).values(name=tpl.name, version=tpl.version, sources=_sources_of(tpl),
                                                path=str(tpl.path), registered_at=now()))
    _BUILT[(tpl.name, tpl.version)] = tpl


def resolve(conn, name: str, version: str | None) -> Template:
    """The template ``name`` at ``version`` (None: the current one), from the notebook when it
    is the current version, else from the sources stored when that version was booked."""
    key = (name, version)
    if version is not None and key in _BUILT:
        return _BUILT[key]
    tpl = current(name)
    if version is None or version == tpl.version:
        return tpl
    row = conn.execute(select(T.templates.c.sources).where(T.templates.c.name == name,
                                                           T.templates.c.version == version)).first()
    if row is None:
        known = [r[0] for r in conn.execute(select(T.templates.c.version).where(T.templates.c.name == name))]
        shown = ", ".join(sorted(set(known) | {tpl.version}))
        raise TemplateError(f"unknown version {version!r} of template {name!r}; known: {shown}", "template_version")
    built = template_from_sources([tuple(x) for x in row[0]], None)
    if built.version != version:
        raise TemplateError(f"stored sources of {name}@{version} hash to {built.version}; the store is damaged",
                            "template_version")
    built.name = name
    _BUILT[key] = built
    return built


def versions(conn) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, version in conn.execute(select(T.templates.c.name, T.templates.c.version)):
        out.setdefault(name, []).append(version)
    return out
