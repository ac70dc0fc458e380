"""A Bokeh/Panel auth module (``panel serve APP --auth-module otclab/hub/panel_auth.py``): the app's
pages need a hub login. JupyterHub's OAuth client (``otclab.hub.identity.hub_auth``) checks the
token cookie and the user's access to this service; a visitor without the cookie goes to
``PREFIX/oauth_callback``, which starts the hub's OAuth flow (state cookie, redirect to the hub's
authorize page) and, when the hub sends the browser back with a code, finishes it (token cookie,
back to the page first asked for; Panel's ``user`` cookie names the hub user, so ``pn.state.user``
is the hub's login). A user logged in but without access to the service gets 403.
"""
from __future__ import annotations

from jupyterhub.services.auth import HubOAuthCallbackHandler
from tornado.httputil import url_concat
from tornado.web import HTTPError, RequestHandler

from otclab.hub.identity import hub_auth

login_url = "/oauth_callback"
logout_url = "/logout"


async def get_user_async(handler):
    """The hub user's name, None when not logged in (Bokeh then redirects to ``login_url``);
    403 when logged in without access to this service."""
    auth = hub_auth()
    user = await auth.get_user(handler, sync=False)
    if user is None:
        return None
    if not auth.check_scopes(auth.access_scopes, user):
        raise HTTPError(403, f"user {user['name']} may not use the service {auth.oauth_client_id} "
                             f"(it needs one of {', '.join(sorted(auth.access_scopes))})")
    return user["name"]


class _NamingAuth:
    """The service's HubOAuth as the callback handler sees it: when the hub names the token's user,
    Panel's own signed ``user`` cookie is set too (``pn.state.user`` reads it), scoped to this
    service's prefix (each app signs with its own secret)."""

    def __init__(self, auth, handler):
        self._auth, self._handler = auth, handler

    def __getattr__(self, name):
        return getattr(self._auth, name)

    async def user_for_token(self, token, **kw):
        model = await self._auth.user_for_token(token, **kw)
        if model:
            self._handler.set_secure_cookie("user", model["name"], path=self._auth.base_url, httponly=True)
        return model


class LoginHandler(HubOAuthCallbackHandler):
    """``PREFIX/oauth_callback``: with the hub's ``code``, finish the OAuth flow; without, start it."""

    @property
    def hub_auth(self):
        return _NamingAuth(hub_auth(), self)

    async def get(self):
        if self.get_argument("code", None) or self.get_argument("error", None):
            return await super().get()
        auth = hub_auth()
        params = {}
        code_verifier = None
        if auth.pkce_enabled:
            code_verifier, challenge, method = auth.generate_pkce_code_challenge()
            params.update(code_challenge=challenge, code_challenge_method=method)
        nxt = self.get_argument("next", None) or auth.base_url
        if not nxt.startswith("/") or nxt.startswith("//"):
            nxt = auth.base_url          # never redirect off the site after login
        params["state"] = auth.set_state_cookie(self, next_url=nxt, code_verifier=code_verifier)
        self.redirect(url_concat(auth.login_url, params))


class LogoutHandler(RequestHandler):
    """``PREFIX/logout`` (the apps' "log out" link): forget this app's cookies, log out of the hub."""

    def get(self):
        auth = hub_auth()
        self.clear_cookie(auth.cookie_name, path=auth.cookie_path)
        self.clear_cookie("user", path=auth.base_url)
        self.redirect(auth.hub_prefix + "logout")
