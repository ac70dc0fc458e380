"""Where KYC files live: uploaded documents, registered screening lists and sealed reports.

``OTCLAB_KYC_FILES`` names the folder; otherwise it is beside a SQLite store
(``<store>-kyc/``) or, for PostgreSQL, ``kyc/`` in the data folder (``OTCLAB_DATA``).
"""
from __future__ import annotations

import os
from pathlib import Path

from ..store.db import data_dir


def files_dir(store) -> Path:
    env = os.environ.get("OTCLAB_KYC_FILES")
    if env:
        return Path(env)
    if store.is_sqlite:
        return store.path.with_name(f"{store.path.stem}-kyc")
    return data_dir() / "kyc"


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a crash leaves either nothing or the whole file: a temp
    name in the same folder, fsync, rename, fsync of the folder. Never replaces an existing file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)
    if path.exists():
        os.unlink(tmp)
        raise FileExistsError(str(path))
    os.rename(tmp, path)
    dfd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)
