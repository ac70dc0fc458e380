"""Serving a dashboard notebook with standalone Voila (viewers cannot run code).

``voila_command`` is the one command line (preheated kernels, idle kernels culled, sources and
tracebacks hidden); ``VoilaServer`` runs it as a child process on localhost until stopped, for the
CLI's tests, the benchmark and a desk machine alike.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

from .child_server import ChildServer, free_port

ROOT = Path(__file__).resolve().parents[2]
RISK_NOTEBOOK = ROOT / "dashboards" / "risk.ipynb"


def voila_command(notebook: Path, port: int, ip: str = "127.0.0.1", base_url: str = "/", pool: int = 1,
                  cull_idle_s: int = 600) -> list[str]:
    """The Voila command line: ``pool`` preheated kernels (0: one started per page view), idle
    kernels culled after ``cull_idle_s`` seconds, sources stripped and tracebacks hidden."""
    return [sys.executable, "-m", "voila", str(notebook), "--no-browser", f"--port={port}", f"--Voila.ip={ip}",
            f"--Voila.base_url={base_url}", "--theme=light", "--strip_sources=True", "--show_tracebacks=False",
            f"--preheat_kernel={'True' if pool > 0 else 'False'}", f"--pool_size={max(pool, 0)}",
            "--MappingKernelManager.cull_interval=60", f"--MappingKernelManager.cull_idle_timeout={cull_idle_s}",
            "--MappingKernelManager.cull_connected=False", "--VoilaExecutor.timeout=120"]


class VoilaServer(ChildServer):
    """``with VoilaServer(db_url) as v: page.goto(v.url)``: Voila on a free localhost port, the
    store given by ``OTCLAB_DB_URL``; ``env`` adds variables (e.g. ``OTCLAB_DASHBOARD_POLL``)."""
    name = "voila"

    def __init__(self, db_url: str, notebook: Path = RISK_NOTEBOOK, pool: int = 1, env: dict | None = None,
                 port: int | None = None, log: Path | None = None):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.cmd = voila_command(notebook, self.port, pool=pool)
        self.env = {**os.environ, "OTCLAB_DB_URL": db_url, **(env or {})}
        self.log = log

    def probe_url(self) -> str:
        # any answer of the HTTP server will do: asking for the page would run the notebook
        return self.url + "voila/static/"
