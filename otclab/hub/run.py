"""Starting and stopping the hub: ``HubServer`` runs ``jupyterhub -f deploy/jupyterhub_config.py``
as a child process on a localhost port until stopped (for ``scripts/start``, ``otclab hub start``
and the browser tests alike); the hub starts the proxy and the apps itself and stops them when it
gets SIGTERM."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from ..dashboards.child_server import ChildServer, free_port
from . import logins
from ..store.db import data_dir
from .paths import CONFIG, hub_dir


class HubServer(ChildServer):
    """``with HubServer(db_url) as hub: page.goto(hub.url)``: the hub on ``port`` (default a free
    one), its state in ``data`` (default the hub folder), the demo logins created there."""
    name = "jupyterhub"

    def __init__(self, db_url: str, port: int | None = None, data: Path | None = None, env: dict | None = None,
                 log: Path | None = None):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        base = {**os.environ, **(env or {}), "OTCLAB_DB_URL": db_url, "OTCLAB_HUB_PORT": str(self.port)}
        if data is not None:
            base["OTCLAB_HUB_DATA"] = str(data)
        self.data = Path(base["OTCLAB_HUB_DATA"]) if base.get("OTCLAB_HUB_DATA") else hub_dir()
        self.data.mkdir(parents=True, exist_ok=True, mode=0o700)
        # the users file the hub reads the groups from (otclab.access.users_file in the hub's environment)
        self.users_file = Path(base.get("OTCLAB_USERS") or Path(base.get("OTCLAB_DATA") or data_dir()) / "users.toml")
        self.logins_file = self.data / "demo-logins.json"
        self.logins = logins.ensure(self.logins_file, self.users_file)
        base["OTCLAB_HUB_LOGINS"] = str(self.logins_file)
        base["OTCLAB_USERS"] = str(self.users_file)
        self.env = base
        self.cmd = [sys.executable, "-m", "jupyterhub", "-f", str(CONFIG)]
        self.log = log

    def probe_url(self) -> str:
        return self.url + "hub/api/"

    def start(self, timeout: float = 120.0):
        old = os.getcwd()
        os.chdir(self.data)          # anything the hub writes beside its config lands in its folder
        try:
            super().start(timeout)
        finally:
            os.chdir(old)
        # the proxy answers (503) before the hub has added its routes: wait for the hub's own answer
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.probe_url(), timeout=2) as r:
                    if r.status == 200 and b"version" in r.read():
                        return self
            except (urllib.error.URLError, OSError):
                pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.25)
        self.stop()
        raise RuntimeError(f"the hub did not answer on {self.probe_url()} within {timeout:.0f} s"
                           + (f"; see {self.log}" if self.log else ""))

    def stop(self, timeout: float = 90.0) -> None:
        """SIGTERM the hub: it stops the apps, the JupyterLab servers and the proxy (each in a
        session of its own); wait up to ``timeout`` seconds (a loaded machine takes a while), then
        end whatever the hub started that is still running, and the hub."""
        if self.proc is None or self.proc.poll() is not None:
            return
        family = _descendants(self.proc.pid)
        self.proc.terminate()
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        family |= {p for p in _descendants(self.proc.pid)}
        for pid in family:
            try:
                os.kill(pid, signal.SIGTERM)
            except (ProcessLookupError, PermissionError):
                pass


def _descendants(pid: int) -> set[int]:
    """The processes under ``pid`` now (Linux /proc; an empty set elsewhere)."""
    parent = {}
    for d in Path("/proc").glob("[0-9]*"):
        try:
            fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
            parent[int(d.name)] = int(fields[1])
        except (OSError, ValueError, IndexError):
            continue
    out, todo = set(), [pid]
    while todo:
        p = todo.pop()
        for child, ppid in parent.items():
            if ppid == p and child not in out:
                out.add(child)
                todo.append(child)
    return out
