"""The apps the hub runs as hub-managed services, each behind the hub's OAuth, and the roles that
reach them.

Each app listens on its own localhost port under the prefix ``/services/NAME/`` (the proxy passes
the path on unchanged): the Voila risk dashboard (standalone Voila with JupyterHub's identity
provider: viewers log in through the hub and cannot run code), the Panel quote-review app, the
KYC apps and operations' confirmation apps (breaks, layouts) (``panel serve`` with
``otclab/hub/panel_auth.py`` as its auth module). An app whose file
is not in the repository yet is left out with a log line. ``jupyterhub-idle-culler`` runs as a
service too (it stops idle single-user servers).
"""
from __future__ import annotations

import logging
import os
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path

from ..access import GROUPS, GROUP_SCOPES, KYC_REVIEW, QUOTE_APPROVE
from ..dashboards.child_server import free_port
from ..dashboards.panel_server import panel_command
from ..dashboards.voila import RISK_NOTEBOOK, voila_command
from .paths import ROOT

log = logging.getLogger("otclab.hub")
PANEL_AUTH = Path(__file__).with_name("panel_auth.py")
VOILA_IDENTITY = "otclab.hub.voila_identity.HubIdentityProvider"


@dataclass(frozen=True)
class App:
    """One app behind the hub: ``name`` (its URL is /services/NAME/), ``kind`` (voila | panel),
    ``path`` (notebook or Panel script), ``groups`` that reach it, ``scopes`` (custom scopes its
    OAuth tokens may carry, when the user holds them) and a ``title`` for the hub's menu."""
    name: str
    kind: str
    path: Path
    groups: tuple[str, ...]
    scopes: tuple[str, ...] = ()
    title: str = ""


STAFF = tuple(g for g in GROUPS if g != "client")
APPS = (
    App("risk", "voila", RISK_NOTEBOOK, ("trader", "risk", "quant", "sales", "operations", "compliance"),
        title="Risk dashboard 风险看板"),
    App("quotes", "panel", ROOT / "dashboards" / "quotes.py", ("trader", "sales", "risk", "operations"),
        (QUOTE_APPROVE,), "Quote review 报价审核"),
    App("kyc-review", "panel", ROOT / "dashboards" / "kyc_review.py", ("sales", "compliance", "risk", "operations"),
        (KYC_REVIEW,), "KYC review 开户审核"),
    App("kyc-client", "panel", ROOT / "dashboards" / "kyc_client.py", ("client",), title="KYC form 开户申请"),
    App("confirm-breaks", "panel", ROOT / "dashboards" / "confirm_breaks.py", ("operations", "trader"),
        title="Confirmation breaks 确认书差异"),
    App("confirm-layouts", "panel", ROOT / "dashboards" / "confirm_layouts.py", ("operations",),
        title="Confirmation layouts 确认书版式"),
)
#: Groups with a JupyterLab server of their own (the client group has none).
LAB_GROUPS = STAFF


def present(apps=APPS) -> list[App]:
    """The apps whose file exists; a missing one is logged and left out."""
    out = []
    for a in apps:
        if a.path.exists():
            out.append(a)
        else:
            log.warning("otclab hub: %s is not in the repository yet: the service %s is left out", a.path, a.name)
    return out


def app_service(app: App, hub_port: int, env: dict, port: int | None = None) -> dict:
    """The hub's service entry of one app: its command on a free localhost port under its prefix."""
    port = port or free_port()
    prefix = f"/services/{app.name}/"
    origins = [f"127.0.0.1:{hub_port}", f"localhost:{hub_port}"]
    if app.kind == "voila":
        cmd = voila_command(app.path, port, base_url=prefix) + [f"--Voila.identity_provider_class={VOILA_IDENTITY}"]
        service_env = dict(env)
    else:
        cmd = _with_auth(panel_command(app.path, port, prefix=prefix, origins=origins, store=env.get("OTCLAB_DB_URL")))
        # the cookie secret in the environment (``ps`` would show a command-line argument)
        service_env = {**env, "PANEL_COOKIE_SECRET": secrets.token_urlsafe(32)}
    return {"name": app.name, "url": f"http://127.0.0.1:{port}", "command": cmd, "environment": service_env,
            "oauth_no_confirm": True, "oauth_client_allowed_scopes": list(app.scopes),
            "display": True, "info": {"title": app.title}}


def _with_auth(cmd: list[str]) -> list[str]:
    """``--auth-module`` before ``--args`` (what follows ``--args`` goes to the app)."""
    i = cmd.index("--args") if "--args" in cmd else len(cmd)
    return cmd[:i] + ["--auth-module", str(PANEL_AUTH)] + cmd[i:]


def culler_service(server_idle_s: int) -> dict:
    """jupyterhub-idle-culler: stops a single-user server idle for ``server_idle_s`` seconds."""
    return {"name": "idle-culler",
            "command": [sys.executable, "-m", "jupyterhub_idle_culler", f"--timeout={server_idle_s}",
                        "--cull-every=300"]}


def roles(apps: list[App]) -> list[dict]:
    """One role per group: its custom scopes (``otclab.access.GROUP_SCOPES``), access to its apps,
    and, for the desk's groups, a JupyterLab server of its own (``self``). The hub's default
    ``user`` role is narrowed to reading one's own model, so a client holds nothing more than the
    role of its group gives."""
    out = [{"name": "user", "scopes": ["read:users:name!user", "read:users:groups!user", "users:activity!user"]}]
    for g in GROUPS:
        scopes = list(GROUP_SCOPES[g]) + [f"access:services!service={a.name}" for a in apps if g in a.groups]
        if g in LAB_GROUPS:
            scopes.append("self")
        out.append({"name": f"otclab-{g}", "description": GROUPS[g], "scopes": scopes, "groups": [g]})
    out.append({"name": "idle-culler", "scopes": ["list:users", "read:users:activity", "read:servers",
                                                  "delete:servers"], "services": ["idle-culler"]})
    return out


def service_env(db_url: str) -> dict:
    """The environment every app gets: the store and the data folder, the Python of this venv."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "OTCLAB_DATA", "OTCLAB_USERS", "OTCLAB_QUOTES_CONFIG",
            "OTCLAB_QUOTES_POLL", "OTCLAB_DASHBOARD_POLL", "OTCLAB_CONFIRM_LAYOUTS", "OTCLAB_CONFIRM_DOCUMENTS",
            "PYTHONPATH", "TZ")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env["OTCLAB_DB_URL"] = db_url
    env["OTCLAB_STORE_URL"] = db_url
    return env


def prepare_home(spawner) -> None:
    """The hub's ``pre_spawn_hook``: the user's home folder with a copy of the repository's
    notebooks/ (made once; the user's later edits are theirs)."""
    import shutil

    home = Path(spawner.home_dir)
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "notebooks").exists():
        shutil.copytree(ROOT / "notebooks", home / "notebooks", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
