"""Where the hub keeps its state: the hub folder (``OTCLAB_HUB_DATA``, default the ``hub`` folder
of the data folder, ``~/.otclab/hub``) holds the hub's database, its cookie secret, the proxy's
pid file and the demo logins; the repository holds none of them."""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
CONFIG = DEPLOY / "jupyterhub_config.py"
PROXY = DEPLOY / "node_modules" / ".bin" / "configurable-http-proxy"


def hub_dir() -> Path:
    """The hub folder (created, mode 0700: it holds secrets)."""
    from ..store.db import data_dir

    d = Path(os.environ.get("OTCLAB_HUB_DATA") or data_dir() / "hub")
    d.mkdir(parents=True, exist_ok=True, mode=0o700)
    return d


def logins_file() -> Path:
    """The demo logins (JSON: user -> {password, groups}), written once by ``logins.ensure``."""
    return hub_dir() / "demo-logins.json"
