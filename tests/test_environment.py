"""environment.yml builds what scripts/bootstrap builds: otclab with every extra but gpu, at the
versions of constraints.txt, on a Python that pyproject.toml allows; a start with nothing changed
installs nothing."""
import re
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
ENV = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
NOT_IN_ENV = {"gpu"}   # CuPy needs a CUDA machine; environment.yml says how to add it


def _pip_lines() -> list[str]:
    pips = [d["pip"] for d in ENV["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert len(pips) == 1, "environment.yml needs one pip: section"
    return pips[0]


def _expand(extras: set[str]) -> set[str]:
    """Extras with self-references (``otclab[lab,test]`` inside ``all``) replaced by what they name."""
    out, todo = set(), list(extras)
    while todo:
        e = todo.pop()
        if e in out:
            continue
        out.add(e)
        for req in PYPROJECT["optional-dependencies"].get(e, []):
            r = Requirement(req)
            if canonicalize_name(r.name) == canonicalize_name(PYPROJECT["name"]):
                todo.extend(r.extras)
    return out


def _requirements(extras: set[str]) -> list[Requirement]:
    reqs = [Requirement(r) for r in PYPROJECT["dependencies"]]
    for e in extras:
        reqs += [Requirement(r) for r in PYPROJECT["optional-dependencies"][e]]
    return [r for r in reqs if canonicalize_name(r.name) != canonicalize_name(PYPROJECT["name"])]


def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        m = re.match(r"^([A-Za-z0-9_.\-]+)==([^\s;#]+)", line.strip())
        if m:
            pins[canonicalize_name(m.group(1))] = m.group(2)
    return pins


def _installed_extras() -> set[str]:
    lines = [ln for ln in _pip_lines() if re.match(r"^-e\s+\.(\[|$)", ln)]
    assert len(lines) == 1, f"environment.yml must install the checkout itself (-e .[extras]); has {_pip_lines()}"
    m = re.match(r"^-e\s+\.\[([^\]]*)\]$", lines[0].strip())
    return _expand({x.strip() for x in m.group(1).split(",") if x.strip()}) if m else set()


def test_every_extra_but_gpu_is_installed():
    extras = _installed_extras()
    assert extras - {"all"} == set(PYPROJECT["optional-dependencies"]) - NOT_IN_ENV - {"all"}
    assert not extras & NOT_IN_ENV


def test_versions_come_from_constraints_and_every_requirement_is_pinned_there():
    assert "-c constraints.txt" in [ln.strip() for ln in _pip_lines()]
    pins = _pins()
    missing, outside = [], []
    for r in _requirements(_installed_extras()):
        v = pins.get(canonicalize_name(r.name))
        if v is None:
            missing.append(str(r))
        elif not r.specifier.contains(v, prereleases=True):
            outside.append(f"{r} (constraints.txt: {v})")
    assert not missing, f"not pinned in constraints.txt: {missing}"
    assert not outside, f"pins outside pyproject.toml's range: {outside}"


def test_conda_packages_are_python_and_pip_only_at_an_allowed_python():
    conda = [d for d in ENV["dependencies"] if isinstance(d, str)]
    names = {re.split(r"[=<>! ]", d, maxsplit=1)[0] for d in conda}
    # anything else from conda would be replaced by pip's pinned copy, or clash with it
    assert names == {"python", "pip"}, conda
    (py,) = [d for d in conda if d.startswith("python")]
    version = py.split("=", 1)[1]
    assert SpecifierSet(PYPROJECT["requires-python"]).contains(version + ".0")
    # constraints.txt was frozen on this Python: the environment gets the same one
    frozen = subprocess.run([str(ROOT / ".venv/bin/python"), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                            capture_output=True, text=True).stdout.strip() if (ROOT / ".venv/bin/python").exists() else None
    if frozen:
        assert version == frozen


def test_bootstrap_with_nothing_changed_installs_nothing():
    """scripts/start runs scripts/bootstrap: with pyproject.toml and constraints.txt as at the last
    install, it returns without running pip (no output, the stamp untouched)."""
    stamp = ROOT / ".venv" / ".otclab-bootstrap"
    if not stamp.exists():
        pytest.skip("no .venv made by scripts/bootstrap here")
    import hashlib

    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + (ROOT / "constraints.txt").read_bytes())
    if stamp.read_text().split() != [digest.hexdigest()[:16], "all"]:
        pytest.skip("pyproject.toml or constraints.txt changed since the last install here")
    before = stamp.stat().st_mtime_ns
    r = subprocess.run([str(ROOT / "scripts" / "bootstrap"), "all"], cwd=ROOT, capture_output=True, text=True,
                       timeout=120)
    # scripts/system-packages may warn about missing Debian packages; pip says nothing at all
    noise = [ln for ln in r.stderr.splitlines() if not ln.startswith("warning: missing Debian packages")]
    assert r.returncode == 0 and r.stdout == "" and noise == [], r.stdout + r.stderr
    assert stamp.stat().st_mtime_ns == before
