"""Serving a Panel app (the quote-review app) with ``panel serve`` on localhost.

``panel_command`` is the one command line (login by ``--basic-auth`` with a credentials file: a JSON
object of user -> password; the cookie secret passed in ``PANEL_COOKIE_SECRET``, not on the command
line where ``ps`` shows it); ``PanelServer`` runs it as a child process until stopped, for the
CLI, the browser tests and the screenshot script alike.
"""
from __future__ import annotations

import os
import secrets
import sys
import urllib.request
from pathlib import Path

from .child_server import ChildServer, free_port

ROOT = Path(__file__).resolve().parents[2]
QUOTES_APP = ROOT / "dashboards" / "quotes.py"


#: the largest websocket message an app accepts: an upload travels in one message (base64), so room
#: for files well above any service's per-document limit, which then refuses an oversized one with
#: its reason instead of Bokeh dropping the connection (its default is 20 MB)
MAX_MESSAGE_BYTES = 64 * 1024 * 1024


def panel_command(app: Path, port: int, ip: str = "127.0.0.1", store: str | None = None,
                  basic_auth: Path | None = None, prefix: str = "", origins: list[str] | None = None) -> list[str]:
    """The ``panel serve`` command line of one app on ``ip:port``; ``store`` goes to the app as
    ``--args --store URL``; ``basic_auth`` a credentials file (JSON user -> password)."""
    cmd = [sys.executable, "-m", "panel", "serve", str(app), "--websocket-max-message-size", str(MAX_MESSAGE_BYTES),
           "--address", ip, "--port", str(port), "--allow-websocket-origin", f"{ip}:{port}"]
    for o in origins or []:
        cmd += ["--allow-websocket-origin", o]
    if ip == "127.0.0.1":
        cmd += ["--allow-websocket-origin", f"localhost:{port}"]
    if prefix:
        cmd += ["--prefix", prefix]
    if basic_auth:
        cmd += ["--basic-auth", str(basic_auth)]
    if store:
        cmd += ["--args", "--store", store]
    return cmd


def app_url(app: Path, ip: str, port: int, prefix: str = "") -> str:
    p = "/" + prefix.strip("/") if prefix.strip("/") else ""
    return f"http://{ip}:{port}{p}/{app.stem}"


class PanelServer(ChildServer):
    """``with PanelServer(store_url, basic_auth=creds) as s: page.goto(s.url)``: the app on a free
    localhost port; ``env`` adds variables (e.g. ``OTCLAB_QUOTES_POLL``)."""
    name = "panel serve"

    def __init__(self, store: str, app: Path = QUOTES_APP, basic_auth: Path | None = None, env: dict | None = None,
                 port: int | None = None, log: Path | None = None):
        self.port = port or free_port()
        self.app = app
        self.url = app_url(app, "127.0.0.1", self.port)
        self.root = f"http://127.0.0.1:{self.port}/"
        self.cmd = panel_command(app, self.port, store=store, basic_auth=basic_auth)
        self.env = {**os.environ, "PANEL_COOKIE_SECRET": secrets.token_urlsafe(32), **(env or {})}
        self.log = log

    def probe_url(self) -> str:
        # the liveness of the HTTP server: the login page (or the index) answers
        return self.root + "login" if "--basic-auth" in self.cmd else self.root


def login(page, server: PanelServer, user: str, password: str) -> None:
    """Log ``user`` in on Panel's basic-auth page and open the app (a Playwright page)."""
    page.goto(server.root + "login?next=" + urllib.request.quote("/" + server.app.stem))
    page.locator("input[name=username]").fill(user)
    page.locator("input[name=password]").fill(password)
    page.locator("input[name=password]").press("Enter")
    page.wait_for_url(server.url + "*", timeout=30_000)
