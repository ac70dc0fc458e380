"""JupyterHub 6 configuration of otclab: the one front door on localhost.

``jupyterhub -f deploy/jupyterhub_config.py`` (or ``scripts/start``, or ``otclab hub start``).
The pieces live in ``otclab.hub``; this file puts them together:

- NativeAuthenticator (offline, bcrypt-hashed passwords, the admin approves sign-ups at
  /hub/authorize) with the demo logins and invited clients' sign-up (``otclab.hub.authenticator``);
  the groups' members come from the users file (``otclab.access.users_file``) when the hub starts.
- Groups from ``otclab.access.GROUPS``, one role per group granting ``otclab.access.GROUP_SCOPES``
  (otclab's ``custom_scopes``), access to the group's apps and, for the desk, a JupyterLab server.
- The apps as hub-managed services behind the hub's OAuth (``otclab.hub.services``).
- JupyterLab servers with ``SimpleLocalProcessSpawner``: every server runs as the hub's own OS
  user, one home folder per hub user under the hub folder (with a copy of notebooks/). A one-machine demo has no OS account
  per desk user, which ``LocalProcessSpawner`` would need (it switches to the user's account and
  so needs root and real accounts); a desk deployment uses that or a container spawner.
- Culling: jupyterhub-idle-culler stops servers idle for an hour; the servers cull idle kernels.
- The hub listens on 127.0.0.1 only; its database, cookie secret and the proxy's pid file are in
  the hub folder (``OTCLAB_HUB_DATA``, default ``~/.otclab/hub``), never in the repository.

Environment: ``OTCLAB_HUB_PORT`` (default 8000), ``OTCLAB_DB_URL`` (default the data folder's
SQLite store), ``OTCLAB_HUB_LOGINS`` (the demo logins file, ``otclab.hub.logins``),
``OTCLAB_HUB_SERVER_IDLE_S`` (3600), ``OTCLAB_HUB_KERNEL_IDLE_S`` (1800).
"""
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # otclab, when not installed

from otclab.access import GROUPS, SCOPES, local_users  # noqa: E402
from otclab.hub import services as S  # noqa: E402
from otclab.hub.logins import ADMIN  # noqa: E402
from otclab.hub.paths import PROXY, hub_dir  # noqa: E402
from otclab.store.db import default_url  # noqa: E402

c = get_config()  # noqa: F821 (JupyterHub's config loader defines it)

data = hub_dir()
port = int(os.environ.get("OTCLAB_HUB_PORT", "8000"))
db_url = default_url()
server_idle_s = int(os.environ.get("OTCLAB_HUB_SERVER_IDLE_S", "3600"))
kernel_idle_s = int(os.environ.get("OTCLAB_HUB_KERNEL_IDLE_S", "1800"))

# ---- where the hub listens and keeps its state ----------------------------------------------------
c.JupyterHub.bind_url = f"http://127.0.0.1:{port}"
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = S.free_port()
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{S.free_port()}"
c.ConfigurableHTTPProxy.command = [str(PROXY)]
c.ConfigurableHTTPProxy.pid_file = str(data / "proxy.pid")
c.JupyterHub.db_url = f"sqlite:///{data / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(data / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(data / "jupyterhub.pid")
c.JupyterHub.cleanup_servers = True
c.JupyterHub.cleanup_proxy = True

# ---- who logs in ------------------------------------------------------------------------------------
c.JupyterHub.authenticator_class = "otclab.hub.authenticator.OtclabAuthenticator"
c.Authenticator.admin_users = {ADMIN}
c.Authenticator.allow_all = True          # NativeAuthenticator admits only the users it authorized
c.NativeAuthenticator.minimum_password_length = 10
c.NativeAuthenticator.check_common_password = True
c.NativeAuthenticator.allowed_failed_logins = 5
c.NativeAuthenticator.seconds_before_next_try = 60
c.OtclabAuthenticator.demo_logins = os.environ.get("OTCLAB_HUB_LOGINS", "")
c.JupyterHub.template_paths = [str(Path(S.__file__).with_name("templates"))]

# ---- groups, scopes, roles, the apps ------------------------------------------------------------------
# the members of each group from the users file (an invited client joins ``client`` at sign-up)
members = {g: sorted(n for n, i in local_users().items() if g in i.groups) for g in GROUPS}
c.JupyterHub.load_groups = {g: {"users": members[g], "properties": {"description": d}} for g, d in GROUPS.items()}
c.JupyterHub.custom_scopes = {s: {"description": d} for s, d in SCOPES.items()}
apps = S.present()
env = S.service_env(db_url)
c.JupyterHub.services = [S.app_service(a, port, env) for a in apps] + [S.culler_service(server_idle_s)]
c.JupyterHub.load_roles = S.roles(apps)


def _landing(handler):
    """After login: a client goes to the KYC form, everyone else to the hub's home page."""
    user = handler.current_user
    if user is not None and "client" in {g.name for g in user.groups}:
        return handler.hub.base_url.replace("/hub/", "/services/kyc-client/")
    return handler.hub.base_url + "home"


c.JupyterHub.default_url = _landing

# ---- JupyterLab servers --------------------------------------------------------------------------------
c.JupyterHub.spawner_class = "jupyterhub.spawner.SimpleLocalProcessSpawner"
c.SimpleLocalProcessSpawner.home_dir_template = str(data / "homes" / "{username}")
# each user works in their own home folder, on their own copy of the tutorials (made at the first
# start): a notebook run and saved in JupyterLab never writes into the repository
c.Spawner.pre_spawn_hook = S.prepare_home
c.Spawner.cmd = [str(Path(sys.executable).with_name("jupyterhub-singleuser"))]
c.Spawner.default_url = "/lab"
c.Spawner.environment = {**env, "OTCLAB_DATA": os.environ.get("OTCLAB_DATA", str(data.parent))}
c.Spawner.http_timeout = 120
c.Spawner.start_timeout = 120
c.Spawner.args = [
    # idle kernels are shut down; a server with nothing running stops itself after server_idle_s
    f"--MappingKernelManager.cull_idle_timeout={kernel_idle_s}",
    "--MappingKernelManager.cull_interval=300",
    "--MappingKernelManager.cull_connected=False",
    f"--ServerApp.shutdown_no_activity_timeout={server_idle_s}",
] + (["--allow-root"] if os.geteuid() == 0 else [])
