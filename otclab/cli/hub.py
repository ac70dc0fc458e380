"""``otclab hub start``: the front door (JupyterHub on localhost with every app behind it) and the
risk refresh service, until Ctrl-C; ``otclab hub users``: the demo logins of each role."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ._store import db_option

NAME = "hub"
app = typer.Typer(help="The front door: JupyterHub with the desk's roles and every app behind it.",
                  no_args_is_help=True)


@app.command("start")
def start_cmd(port: int = typer.Option(8000, help="the hub's port on 127.0.0.1"),
              feed: Optional[Path] = typer.Option(None, help="the refresh service's market folder "
                                                             "(none: no refresh service)"),
              every: float = typer.Option(10.0, help="minutes between risk refreshes"),
              paths: int = typer.Option(20_000, help="Monte Carlo paths of each refresh"),
              db: Optional[str] = db_option()) -> None:
    """Start the risk refresh (``otclab risk serve``, with ``--feed``) and the hub; print the URL
    and the demo logins; stop both on Ctrl-C or SIGTERM."""
    import signal
    import subprocess
    import sys
    import threading

    from ..hub.logins import table
    from ..hub.paths import PROXY, hub_dir
    from ..hub.run import HubServer
    from ..store.db import default_url
    from ..core.errors import OtcError

    if not PROXY.exists():
        raise OtcError(f"{PROXY} is missing: run scripts/bootstrap (npm ci --prefix deploy installs "
                       "configurable-http-proxy)", "proxy")
    url = db or default_url()
    data = hub_dir()
    stop = threading.Event()
    # Ctrl-C and SIGTERM end the wait below (also when started with SIGINT ignored, as a background job is)
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    refresh = None
    if feed is not None:
        log = open(data / "refresh.log", "ab")
        refresh = subprocess.Popen([sys.executable, "-m", "otclab.cli.main", "risk", "serve", "--feed", str(feed),
                                    "--every", str(every), "--paths", str(paths), "--db", url],
                                   stdout=log, stderr=subprocess.STDOUT)
        print(f"risk refresh every {every:g} min from {feed} (log {data / 'refresh.log'})", flush=True)
    hub = HubServer(url, port=port, data=data, log=data / "hub.log")
    try:
        print(f"starting the hub (log {data / 'hub.log'}) ...", flush=True)
        hub.start()
        print(f"\notclab hub on {hub.url}  (store {url})\n\ndemo logins (group, user, password; kept in "
              f"{hub.logins_file}):\n{table(hub.logins)}\n\nCtrl-C stops the hub, its apps and the refresh.",
              flush=True)
        while not stop.is_set():
            if hub.proc.poll() is not None:
                raise OtcError(f"the hub exited with {hub.proc.returncode}; see {data / 'hub.log'}", "hub")
            stop.wait(1.0)
    finally:
        print("stopping ...", flush=True)
        if refresh is not None and refresh.poll() is None:
            refresh.terminate()          # first: a refresh running would slow the hub's shutdown
            try:
                refresh.wait(30)
            except subprocess.TimeoutExpired:
                refresh.kill()
        hub.stop()
        print("stopped", flush=True)


@app.command("users")
def users_cmd() -> None:
    """The demo logins of each role (created with generated passwords on first use)."""
    from ..access import users_file
    from ..hub.logins import ensure, table
    from ..hub.paths import logins_file

    print(f"demo logins (kept in {logins_file()}; groups in {users_file()}):\n{table(ensure())}")
