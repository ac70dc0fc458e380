"""The identity an app behind the hub acts for.

An app run as a hub-managed service gets ``JUPYTERHUB_*`` variables from the hub (its API token,
OAuth client id, callback URL, access scopes); ``hub_auth`` is JupyterHub's own OAuth client
(``jupyterhub.services.auth.HubOAuth``) built from them. After the OAuth dance the browser holds
the user's token in a cookie signed with the app's cookie secret; ``identity_of_token`` asks the hub
who that token belongs to (``/hub/api/user``: name, groups, the scopes the token carries) and turns
the answer into ``otclab.access.Identity``, so approvals and audit entries name the hub user and
scope checks use the hub's roles.
"""
from __future__ import annotations

import functools
import json
import os
import urllib.request

from ..access import Identity


def under_hub() -> bool:
    """True in a process the hub started as a service (the hub set its service name)."""
    return bool(os.environ.get("JUPYTERHUB_SERVICE_NAME"))


@functools.lru_cache(maxsize=1)
def hub_auth():
    """The service's HubOAuth client (configured from the hub's environment variables).

    Cookie authentication is allowed on websockets: Bokeh's session websocket carries no other
    credential, and Bokeh checks the websocket's origin against the allowed origins."""
    from jupyterhub.services.auth import HubOAuth

    return HubOAuth(allow_websocket_cookie_auth=True, cache_max_age=60)


def token_from_cookie(value: str | bytes | None, cookie_secret: str | bytes) -> str | None:
    """The hub token stored in the service's OAuth cookie (signed with ``cookie_secret``), or None."""
    from tornado.web import decode_signed_value

    if not value:
        return None
    raw = decode_signed_value(cookie_secret, hub_auth().cookie_name, value)
    return raw.decode() if raw else None


def identity_of_token(token: str, timeout: float = 10.0) -> Identity | None:
    """Ask the hub whose ``token`` it is (``GET /hub/api/user``); None when the hub refuses it."""
    req = urllib.request.Request(hub_auth().api_url.rstrip("/") + "/user",
                                 headers={"Authorization": f"token {token}"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            model = json.loads(r.read())
    except urllib.error.HTTPError:
        return None
    return Identity.from_hub(model)


def panel_identity() -> Identity | None:
    """The identity of the current Panel session's user (from the request's OAuth cookie), or
    None when the app does not run behind the hub or the cookie is missing."""
    if not under_hub():
        return None
    import panel as pn

    token = token_from_cookie(pn.state.cookies.get(hub_auth().cookie_name), pn.config.cookie_secret)
    return identity_of_token(token) if token else None
