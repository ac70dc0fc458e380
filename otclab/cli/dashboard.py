"""``otclab dashboard risk``: the risk dashboard with standalone Voila; ``otclab dashboard quotes``:
the quote-review app with ``panel serve``; ``otclab dashboard kyc-client`` / ``kyc-review``: the KYC
client form and the reviewers' page, likewise."""
from __future__ import annotations

from typing import Optional

import typer

from ._store import db_option

NAME = "dashboard"
app = typer.Typer(help="Serve the dashboards (risk: standalone Voila, viewers cannot run code; quotes: Panel with a login).", no_args_is_help=True)


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


@app.command("quotes")
def quotes_cmd(port: int = typer.Option(5006), ip: str = typer.Option("127.0.0.1"),
               prefix: str = typer.Option("", help="the prefix it is served under (e.g. behind a proxy)"),
               basic_auth: Optional[str] = typer.Option(
                   None, "--basic-auth", help="credentials file: a JSON object of trader -> password (the login "
                   "every approval names); without it the page shows quotes and refuses every decision"),
               cookie_secret: Optional[str] = typer.Option(
                   None, "--cookie-secret", envvar="PANEL_COOKIE_SECRET",
                   help="secret signing the login cookie (default: a new random one: a restart logs traders out)"),
               poll: float = typer.Option(1.0, help="seconds between the page's looks at the store"),
               config: Optional[str] = typer.Option(
                   None, "--config", help="the quote service's settings file (four-eyes notional, reply template, "
                   "validity; default $OTCLAB_QUOTES_CONFIG): give the one `otclab quotes serve` runs with"),
               db: Optional[str] = db_option()) -> None:
    """Serve the quote-review app (dashboards/quotes.py) with panel serve on http://IP:PORT/quotes."""
    from pathlib import Path

    from ..core.errors import InputError
    from ..dashboards.panel_server import QUOTES_APP

    if not 0.1 <= poll <= 60:
        raise InputError(f"{poll} is out of range; allowed 0.1 to 60 seconds", "--poll")
    env = {"OTCLAB_QUOTES_POLL": str(poll)}
    if config:
        from ..workflows.quotes.config import load_config

        load_config(config, env={}, require_wecom=False)       # a bad file: one line now, not in every page
        env["OTCLAB_QUOTES_CONFIG"] = str(Path(config).resolve())
    _serve_panel(QUOTES_APP, "quote-review app", port, ip, prefix, basic_auth, cookie_secret, env, db,
                 no_login="nobody can log in, decisions are refused")


def _serve_panel(app_path, what: str, port: int, ip: str, prefix: str, basic_auth: Optional[str],
                 cookie_secret: Optional[str], env_extra: dict, db: Optional[str], with_store: bool = True,
                 no_login: str | None = "nobody is logged in, the page refuses every step", detail: str = "") -> None:
    """``panel serve`` one app with a login (``--basic-auth``), the store (unless ``with_store`` is
    False) and the app's settings in ``env_extra``; replaces this process."""
    import os
    import secrets
    from pathlib import Path

    from ..dashboards.panel_server import app_url, panel_command
    from ..dashboards.quotes import store_url

    creds = None
    if basic_auth:
        creds = Path(basic_auth)
        _check_credentials(creds)
    url = (db or store_url()) if with_store else None
    env = {**os.environ, "PANEL_COOKIE_SECRET": cookie_secret or secrets.token_urlsafe(32), **env_extra}
    cmd = panel_command(app_path, port, ip, store=url, basic_auth=creds, prefix=prefix)
    where = f" (store {url})" if url else ""
    login = "" if creds or no_login is None else f" (no --basic-auth: {no_login})"
    print(f"{what} on {app_url(app_path, ip, port, prefix)}{where}{detail}{login}", flush=True)
    os.execvpe(cmd[0], cmd, env)


def _users_env(users: Optional[str], whose: str) -> dict:
    """The users file an app reads its users' groups from, checked now (a bad file: one line here,
    not an error in every page)."""
    if not users:
        return {}
    from pathlib import Path

    from ..access import local_users
    from ..core.errors import InputError

    if not Path(users).exists():
        raise InputError(f"{users} does not exist; give the users file (TOML) of {whose}", "--users")
    local_users(Path(users))
    return {"OTCLAB_USERS": str(Path(users).resolve())}


_KYC_AUTH = ("credentials file: a JSON object of user -> password (the login each case, upload and decision "
             "names)")


@app.command("kyc-client")
def kyc_client_cmd(port: int = typer.Option(5007), ip: str = typer.Option("127.0.0.1"),
                   prefix: str = typer.Option("", help="the prefix it is served under (e.g. behind a proxy)"),
                   basic_auth: Optional[str] = typer.Option(None, "--basic-auth", help=_KYC_AUTH),
                   cookie_secret: Optional[str] = typer.Option(None, "--cookie-secret", envvar="PANEL_COOKIE_SECRET",
                                                               help="secret signing the login cookie"),
                   db: Optional[str] = db_option()) -> None:
    """Serve the client's KYC form (dashboards/kyc_client.py) on http://IP:PORT/kyc_client."""
    from ..dashboards.panel_server import ROOT

    _serve_panel(ROOT / "dashboards" / "kyc_client.py", "KYC client form", port, ip, prefix, basic_auth,
                 cookie_secret, {}, db)


@app.command("kyc-review")
def kyc_review_cmd(port: int = typer.Option(5008), ip: str = typer.Option("127.0.0.1"),
                   prefix: str = typer.Option("", help="the prefix it is served under (e.g. behind a proxy)"),
                   basic_auth: Optional[str] = typer.Option(None, "--basic-auth", help=_KYC_AUTH),
                   cookie_secret: Optional[str] = typer.Option(None, "--cookie-secret", envvar="PANEL_COOKIE_SECRET",
                                                               help="secret signing the login cookie"),
                   users: Optional[str] = typer.Option(
                       None, "--users", help="users file (TOML: a table users.NAME with a list of groups): each "
                       "reviewer's role; default $OTCLAB_USERS or $OTCLAB_DATA/users.toml"),
                   poll: float = typer.Option(2.0, help="seconds between the page's looks at the queue"),
                   db: Optional[str] = db_option()) -> None:
    """Serve the KYC reviewers' page (dashboards/kyc_review.py) on http://IP:PORT/kyc_review."""
    from ..core.errors import InputError
    from ..dashboards.panel_server import ROOT

    if not 0.1 <= poll <= 60:
        raise InputError(f"{poll} is out of range; allowed 0.1 to 60 seconds", "--poll")
    env = {"OTCLAB_KYC_POLL": str(poll), **_users_env(users, "the reviewers")}
    _serve_panel(ROOT / "dashboards" / "kyc_review.py", "KYC review page", port, ip, prefix, basic_auth,
                 cookie_secret, env, db)


@app.command("confirm-layouts")
def confirm_layouts_cmd(port: int = typer.Option(5009), ip: str = typer.Option("127.0.0.1"),
                        prefix: str = typer.Option("", help="the prefix it is served under (e.g. behind a proxy)"),
                        basic_auth: Optional[str] = typer.Option(
                            None, "--basic-auth", help="credentials file: a JSON object of user -> password (the "
                            "login each save names; the user must be in the operations group)"),
                        users: Optional[str] = typer.Option(
                            None, "--users", help="users file (TOML users.NAME groups = [...]); default $OTCLAB_USERS "
                            "or $OTCLAB_DATA/users.toml"),
                        folder: Optional[str] = typer.Option(
                            None, "--folder", help="where layouts are saved (default $OTCLAB_CONFIRM_LAYOUTS, "
                            "else ~/.otclab/confirm/layouts); extraction reads the same folder")) -> None:
    """Serve the confirmation layout tool (dashboards/confirm_layouts.py) on http://IP:PORT/confirm_layouts."""
    import os
    from pathlib import Path

    from ..dashboards.panel_server import ROOT

    env = {"OTCLAB_CONFIRM_LAYOUTS": str(Path(folder).expanduser().resolve())} if folder else {}
    saved = env.get("OTCLAB_CONFIRM_LAYOUTS", os.environ.get("OTCLAB_CONFIRM_LAYOUTS", "~/.otclab/confirm/layouts"))
    env.update(_users_env(users, "operations"))
    _serve_panel(ROOT / "dashboards" / "confirm_layouts.py", "confirmation layout tool", port, ip, prefix,
                 basic_auth, os.environ.get("PANEL_COOKIE_SECRET"), env, None, with_store=False,
                 no_login="nobody is logged in, saving a layout is refused", detail=f" (layouts saved in {saved})")


@app.command("confirm-breaks")
def confirm_breaks_cmd(port: int = typer.Option(5010), ip: str = typer.Option("127.0.0.1"),
                       prefix: str = typer.Option("", help="the prefix it is served under (e.g. behind a proxy)"),
                       basic_auth: Optional[str] = typer.Option(
                           None, "--basic-auth", help="credentials file: a JSON object of user -> password (the "
                           "login each accept / resolve names; the user must be in the operations group)"),
                       users: Optional[str] = typer.Option(
                           None, "--users", help="users file (TOML users.NAME groups = [...]); default $OTCLAB_USERS "
                           "or $OTCLAB_DATA/users.toml"),
                       documents: Optional[str] = typer.Option(
                           None, "--documents", help="documents folder (default $OTCLAB_CONFIRM_DOCUMENTS, else "
                           "$OTCLAB_DATA/documents)"),
                       db: Optional[str] = db_option()) -> None:
    """Serve the operations view of confirmation breaks (dashboards/confirm_breaks.py) on http://IP:PORT/confirm_breaks."""
    import os
    from pathlib import Path

    from ..dashboards.panel_server import ROOT

    env = _users_env(users, "operations")
    if documents:
        env["OTCLAB_CONFIRM_DOCUMENTS"] = str(Path(documents).resolve())
    _serve_panel(ROOT / "dashboards" / "confirm_breaks.py", "confirmation breaks", port, ip, prefix, basic_auth,
                 os.environ.get("PANEL_COOKIE_SECRET"), env, db)


def _check_credentials(path) -> None:
    """A credentials file Panel's basic auth can read: a JSON object of user name -> password."""
    import json

    from ..core.errors import InputError

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise InputError(f"cannot read {path}: {e.strerror}", "--basic-auth") from None
    except ValueError:
        raise InputError(f"{path} is not JSON; allowed: an object of user name -> password", "--basic-auth") from None
    if not isinstance(data, dict) or not data or not all(
            isinstance(k, str) and k and isinstance(v, str) and v for k, v in data.items()):
        raise InputError(f"{path} must be a JSON object of user name -> password (non-empty strings)",
                         "--basic-auth")
