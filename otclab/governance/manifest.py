"""The shipped manifest ``payoffs/approved.json``: the template versions the repository ships approved.

Policy: the notebooks in ``payoffs/`` are reviewed with the code; each shipped version is listed
here with its validation evidence (the papermill run: when, how long, what the validation cells
checked against independent references) and who approved it. Every store accepts these versions
without an approval of its own (existing stores, the demo and the tests book them); a store can
still retire one (a ``template_events`` row overrides the manifest). A shipped notebook whose
current version is not listed fails ``tests/governance`` and ``otclab payoffs manifest``: a change
to a shipped template ships its evidence with it (``otclab payoffs manifest --write --approver``).
Any other version (edited, new, or in an ``OTCLAB_PAYOFFS`` folder) starts as draft in the store.
"""
from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path

from ..core.errors import OtcError
from ..templates.loader import BUILTIN_DIR, source_version, tagged_sources

MANIFEST = BUILTIN_DIR / "approved.json"


def notebook_version(path: Path) -> str:
    """The template version of the notebook at ``path`` (hash of its tagged cells), nothing run."""
    try:
        nb = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise OtcError(f"{path}: not a readable notebook ({e})", "template") from None
    return source_version(tagged_sources(nb))


def load(path: Path = MANIFEST) -> dict[tuple[str, str], dict]:
    """(template, version) → its manifest entry; {} when the file is absent."""
    if not Path(path).exists():
        return {}
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except ValueError as e:
        raise OtcError(f"{path}: not valid JSON: {e}", "manifest") from None
    return {(e["template"], e["version"]): e for e in data.get("versions", [])}


def approved(name: str, version: str) -> dict | None:
    """The manifest entry of ``name`` at ``version`` if the repository ships it approved."""
    return _cached().get((name, version))


_CACHE: dict = {}


def _cached() -> dict:
    key = MANIFEST.stat().st_mtime_ns if MANIFEST.exists() else None
    if _CACHE.get("key") != key or "data" not in _CACHE:
        _CACHE.update(key=key, data=load())
    return _CACHE["data"]


def shipped() -> dict[str, str]:
    """Template name → the current version of each notebook in ``payoffs/``."""
    return {p.stem: notebook_version(p) for p in sorted(BUILTIN_DIR.glob("*.ipynb"))}


def missing(path: Path = MANIFEST) -> list[tuple[str, str]]:
    """(name, version) of shipped notebooks whose current version the manifest does not list."""
    have = load(path)
    return [(n, v) for n, v in shipped().items() if (n, v) not in have]


def entry(row: dict, approver: str) -> dict:
    """A manifest entry from a passing ``validate_notebook`` row: the version, the run's evidence
    and, as the independent comparison, the checks the validation cells recorded (each against
    a closed form, another engine or a published value, with its difference and tolerance)."""
    if row["status"] != "pass":
        raise OtcError(f"{row['template']} {row['version']} did not pass its validation: {row['error']}", "template")
    checks = [{"key": r["key"], **{k: r["value"][k] for k in ("a", "b", "diff", "tol", "ok", "note") if k in r["value"]}}
              for r in row["records"] if isinstance(r.get("value"), dict) and "ok" in r["value"]]
    return {"template": row["template"], "version": row["version"],
            "validation": {"status": "pass", "at": row["at"], "seconds": row["seconds"],
                           "command": f"otclab payoffs validate {row['template']}",
                           "recorded": [r["key"] for r in row["records"]]},
            "comparison": {"kind": "the notebook's validation cells against independent references",
                           "checks": checks},
            "approved_by": approver,
            "approved_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}


def write(entries: list[dict], path: Path = MANIFEST) -> None:
    """Add ``entries`` to the manifest (replacing an entry of the same template and version);
    entries of versions no longer shipped are kept: trades booked with them stay bookable."""
    have = load(path)
    for e in entries:
        have[(e["template"], e["version"])] = e
    doc = {"policy": "template versions shipped approved; see otclab/governance/manifest.py and docs/governance.md",
           "versions": sorted(have.values(), key=lambda e: (e["template"], e["approved_at"]))}
    Path(path).write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
