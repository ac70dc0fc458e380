"""Standalone Voila behind the hub (``--Voila.identity_provider_class=otclab.hub.voila_identity.HubIdentityProvider``).

JupyterHub's identity provider for Jupyter servers (``JupyterHubIdentityProvider``: the hub's
OAuth, access checked against the service's access scopes, 403 for a user without it) registers
its OAuth callback at ``/oauth_callback``; a Jupyter server prefixes its handlers with the base
URL, standalone Voila does not, so the hub's redirect to ``/services/NAME/oauth_callback`` would
reach the notebook page and loop. Here the two handlers carry the service's prefix.
"""
from __future__ import annotations

import os

from jupyter_server.utils import url_path_join
from jupyterhub.singleuser.extension import JupyterHubIdentityProvider


class HubIdentityProvider(JupyterHubIdentityProvider):
    """JupyterHub's identity provider with its handlers under ``JUPYTERHUB_SERVICE_PREFIX``."""

    def get_handlers(self):
        prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/")
        return [(url_path_join(prefix, path), *rest) for path, *rest in super().get_handlers()]
