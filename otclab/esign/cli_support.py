"""Helpers shared by the esign / envelope / evidence / report CLI modules (loading, output)."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .errors import InputError

DEFAULT_EVIDENCE = "otclab-evidence.sqlite"
DEFAULT_REPLAY = "otclab-replay.sqlite"


def evidence_url(url: str | None) -> str:
    """Evidence log location: the option, else $OTCLAB_EVIDENCE_URL, else ./otclab-evidence.sqlite."""
    return url or os.environ.get("OTCLAB_EVIDENCE_URL") or DEFAULT_EVIDENCE


def open_log(url: str | None, create: bool = True):
    """The evidence log; ``create=False`` (verify, prove, checkpoint) refuses a missing one."""
    from .evidence import EvidenceLog

    return EvidenceLog(evidence_url(url), create=create)


def credentials(key: Path, cert: Path | None, password: str | None):
    from .pki import load_credentials

    return load_credentials(key, cert, password)


def trust_store(roots: list[Path] | None, crls: list[Path] | None, require_crl: bool = False):
    from .pki import TrustStore, load_certificates, load_crls

    if not roots:
        raise InputError("give at least one trusted root certificate (--trust-root)", field="trust-root")
    certs = [c for r in roots for c in load_certificates(r, field="trust-root")]
    return TrustStore(roots=certs, crls=[c for p in (crls or []) for c in load_crls(p)], require_crl=require_crl)


def read_bytes(path: Path, field: str, limit_name: str | None = None) -> bytes:
    """A regular file's bytes; with ``limit_name`` (see ``limits.py``) refused past that size before reading."""
    from .limits import describe, limit

    if not path.exists():
        raise InputError(f"file not found: {path}", field=field)
    if not path.is_file():
        raise InputError(f"{path} is not a regular file", field=field)
    try:
        if limit_name is not None:
            cap = limit(limit_name)
            size = path.stat().st_size
            if size > cap:
                raise InputError(f"{path} is {size} bytes, more than the {describe(limit_name)}", field=field)
            with path.open("rb") as f:
                data = f.read(cap + 1)
            if len(data) > cap:  # it grew while we looked
                raise InputError(f"{path} is more than the {describe(limit_name)}", field=field)
            return data
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}", field=field) from None


def write_bytes(path: Path, data: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}", field="out") from None


def sha256_file(path: Path, field: str) -> tuple[int, str]:
    """(size, SHA-256 hex) of a regular file, read in chunks (any size)."""
    import hashlib

    if not path.is_file():
        raise InputError(f"file not found or not a regular file: {path}", field=field)
    h, n = hashlib.sha256(), 0
    try:
        with path.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
                n += len(chunk)
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}", field=field) from None
    return n, h.hexdigest()


def emit(obj: dict[str, Any], as_json: bool, lines: list[str]) -> None:
    """Print ``obj`` as JSON on stdout (``--json``) or the human-readable ``lines``."""
    if as_json:
        print(json.dumps(obj, ensure_ascii=False, indent=2, default=str))
    else:
        for line in lines:
            print(line)
