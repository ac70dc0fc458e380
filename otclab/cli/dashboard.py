"""``otclab dashboard risk``: serve the risk dashboard with standalone Voila."""
from __future__ import annotations

from typing import Optional

import typer

from ._store import db_option

NAME = "dashboard"
app = typer.Typer(help="Serve the dashboards (standalone Voila: viewers cannot run code).", no_args_is_help=True)


@app.command("risk")
def risk_cmd(port: int = typer.Option(8866), ip: str = typer.Option("127.0.0.1"),
             base_url: str = typer.Option("/", help="the prefix it is served under (e.g. behind the hub)"),
             pool: int = typer.Option(1, help="preheated kernels kept ready (0: start one per page view)"),
             cull_idle: int = typer.Option(600, help="seconds after which an idle kernel is culled"),
             db: Optional[str] = db_option()) -> None:
    """Serve dashboards/risk.ipynb on http://IP:PORT/ (reads OTCLAB_DB_URL or --db)."""
    import os

    from ..dashboards.voila import RISK_NOTEBOOK, voila_command
    from ..store.db import default_url

    env = {**os.environ, "OTCLAB_DB_URL": db or default_url()}
    cmd = voila_command(RISK_NOTEBOOK, port, ip, base_url, pool, cull_idle)
    print(f"risk dashboard on http://{ip}:{port}{base_url} (store {env['OTCLAB_DB_URL']})", flush=True)
    os.execvpe(cmd[0], cmd, env)
