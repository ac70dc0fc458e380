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


def open_log(url: str | None):
    from .evidence import EvidenceLog

    return EvidenceLog(evidence_url(url))


def credentials(key: Path, cert: Path | None, password: str | None):
    from .pki import load_credentials

    return load_credentials(key, cert, password)


def trust_store(roots: list[Path] | None, crls: list[Path] | None, require_crl: bool = False):
    from .pki import TrustStore, load_certificates, load_crls

    if not roots:
        raise InputError("give at least one trusted root certificate (--trust-root)", field="trust-root")
    certs = [c for r in roots for c in load_certificates(r, field="trust-root")]
    return TrustStore(roots=certs, crls=[c for p in (crls or []) for c in load_crls(p)], require_crl=require_crl)


def read_bytes(path: Path, field: str) -> bytes:
    if not path.is_file():
        raise InputError(f"file not found: {path}", field=field)
    return path.read_bytes()


def write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def emit(obj: dict[str, Any], as_json: bool, lines: list[str]) -> None:
    """Print ``obj`` as JSON on stdout (``--json``) or the human-readable ``lines``."""
    if as_json:
        print(json.dumps(obj, ensure_ascii=False, indent=2, default=str))
    else:
        for line in lines:
            print(line)
