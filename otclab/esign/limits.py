"""Input limits of the e-signing area: every size read from outside is bounded before it is read.

Each limit has a default here and (for the byte sizes) an environment variable to change it;
past a limit the input is refused with an ``OtcError`` naming the field, the limit and the
variable (the command line prints that one line and exits 2). The table is in docs/esign.md.
"""
from __future__ import annotations

import os

from .errors import InputError

MiB = 1 << 20

# name -> (default, environment variable or None when fixed)
LIMITS: dict[str, tuple[int, str | None]] = {
    "pdf_bytes": (64 * MiB, "OTCLAB_MAX_PDF_BYTES"),            # PDF to sign or verify
    "pdf_signatures": (20, "OTCLAB_MAX_PDF_SIGNATURES"),        # signatures validated in one PDF
    "envelope_bytes": (64 * MiB, "OTCLAB_MAX_ENVELOPE_BYTES"),  # envelope to open (and to seal)
    "pki_file_bytes": (16 * MiB, "OTCLAB_MAX_PKI_FILE_BYTES"),  # key, certificate or CRL file
    "entry_bytes": (16 * MiB, "OTCLAB_MAX_ENTRY_BYTES"),        # one evidence entry's data (--entry, append)
    "record_bytes": (1 * MiB, None),                            # `evidence append --record` JSON text
    "proof_bytes": (1 * MiB, None),                             # proof file
    "checkpoint_bytes": (256 * 1024, None),                     # checkpoint file
    "json_depth": (16, None),                                   # nesting of any JSON we read
    "sender_chain": (8, None),                                  # certificates in an envelope's sender chain
    "kind_chars": (64, None),                                   # evidence entry kind
}

MAX_TREE_SIZE = (1 << 63) - 1  # sizes and indexes are SQL BIGINTs
MAX_PROOF_HASHES = 128         # an RFC 9162 proof in a tree of < 2^63 leaves has fewer
WINDOW_RANGE_S = (1, 86_400)   # `envelope open --window` seconds


def limit(name: str) -> int:
    """Current value of limit ``name``: its environment variable if set (a positive integer), else the default."""
    default, var = LIMITS[name]
    if var is None:
        return default
    raw = os.environ.get(var)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value <= 0:
        raise InputError(f"must be a positive integer, got {raw!r}", field=var)
    return value


def describe(name: str) -> str:
    """'limit of N (set VAR)' for messages."""
    _, var = LIMITS[name]
    return f"limit of {limit(name)}" + (f" (set {var} to change it)" if var else "")


def check_size(n: int, name: str, field: str, what: str = "bytes") -> None:
    """Refuse ``n`` units of input past limit ``name``."""
    if n > limit(name):
        raise InputError(f"{n} {what}, more than the {describe(name)}", field=field)
