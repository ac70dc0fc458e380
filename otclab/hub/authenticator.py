"""The hub's authenticator: JupyterHub's NativeAuthenticator (works offline, bcrypt-hashed
passwords, the admin approves sign-ups at ``/hub/authorize``) with the desk's groups.

- The demo logins (``logins.ensure``) are created authorized when the hub starts.
- The groups' members are read from the users file (``otclab.access``) when the hub starts
  (``deploy/jupyterhub_config.py``): the roles of those groups decide which apps a user reaches.
- An invited client signs up with the invitation code the desk sent: the code is redeemed once
  through the KYC service (``otclab.kyc.service.redeem``); the account is authorized at once and
  lands in the group ``client`` (the KYC form only). A sign-up without a code waits for the admin.
"""
from __future__ import annotations

import json
import os

import bcrypt
from nativeauthenticator import NativeAuthenticator
from nativeauthenticator.handlers import LoginHandler as NativeLoginHandler
from nativeauthenticator.handlers import SignUpHandler
from nativeauthenticator.orm import UserInfo
from traitlets import Unicode

from . import logins


class _NoTimer:
    def timer(self, _name):
        return self

    def start(self):
        return self

    def stop(self, send=True):
        return None


class LoginHandler(NativeLoginHandler):
    """NativeAuthenticator 1.3's login page on JupyterHub 6: the hub no longer gives handlers a
    ``statsd`` client (the page's POST timed itself with it), and an error page rendered from the
    POST passes arguments the page's own renderer does not take."""

    statsd = _NoTimer()

    def _render(self, login_error=None, username=None, **_ns):
        return super()._render(login_error=login_error, username=username)


class InvitedSignUpHandler(SignUpHandler):
    """``/hub/signup`` with an ``invitation`` field: a valid code makes an authorized client."""

    async def post(self):
        code = self.get_body_argument("invitation", "", strip=True)
        if not code:
            return await super().post()
        username = self.authenticator.normalize_username(self.get_body_argument("username", "", strip=True))
        password = self.get_body_argument("signup_password", strip=False)
        confirmation = self.get_body_argument("signup_password_confirmation", strip=False)
        error = None
        if self.authenticator.user_exists(username):
            error = f"the user name {username} is taken: choose another"
        elif not self.authenticator.validate_username(username):
            error = "the user name may not contain spaces, commas or slashes"
        elif password != confirmation:
            error = "the password and its confirmation differ"
        elif not self.authenticator.is_password_strong(password):
            error = (f"the password needs at least {self.authenticator.minimum_password_length} characters "
                     "and must not be a common one")
        else:
            error = self.authenticator.redeem_invitation(code, username)
        if error is None:
            self.authenticator.add_authorized(username, password, ["client"])
            self._join("client", username)
            alert, message = "alert-success", "Invitation accepted: log in with your new user name and password."
        else:
            alert, message = "alert-danger", f"Sign-up refused: {error}"
        html = await self.render_template(
            "signup.html", ask_email=self.authenticator.ask_email_on_signup, result_message=message, alert=alert,
            two_factor_auth=self.authenticator.allow_2fa, two_factor_auth_user=False, two_factor_auth_value="",
            recaptcha_key=self.authenticator.recaptcha_key, tos=self.authenticator.tos)
        self.finish(html)


    def _join(self, group: str, username: str) -> None:
        """Put the new hub user in ``group`` now (the users file has it for the next hub start)."""
        from jupyterhub import orm

        user = self.user_from_username(username)
        g = orm.Group.find(self.db, group)
        if g is None:
            g = orm.Group(name=group)
            self.db.add(g)
        if user.orm_user not in g.users:
            g.users.append(user.orm_user)
        self.db.commit()


class OtclabAuthenticator(NativeAuthenticator):
    """NativeAuthenticator with the desk's demo logins, groups from the users file and invited
    clients' sign-up (see the module's docstring)."""

    demo_logins = Unicode(os.environ.get("OTCLAB_HUB_LOGINS", ""), config=True,
                          help="the demo logins file (JSON user -> {password, groups}); empty: none")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.demo_logins and os.path.exists(self.demo_logins):
            with open(self.demo_logins, encoding="utf-8") as f:
                for name, spec in json.load(f).items():
                    if not self.user_exists(name):
                        self.add_authorized(name, spec["password"], spec["groups"], write_groups=False)

    def add_authorized(self, username: str, password: str, groups: list[str], write_groups: bool = True) -> None:
        """Create an authorized user (bcrypt-hashed password) and, with ``write_groups``, record its
        groups in the users file."""
        if write_groups:
            logins.add_users({username: groups})
        info = UserInfo(username=username, password=bcrypt.hashpw(password.encode(), bcrypt.gensalt()),
                        is_authorized=True)
        self.db.add(info)
        self.db.commit()

    def redeem_invitation(self, code: str, username: str) -> str | None:
        """Redeem a client's invitation code for ``username`` through the KYC service; None when it
        was accepted, else the reason it was refused (one line, shown on the sign-up page)."""
        from ..core.errors import OtcError

        try:
            from ..kyc.service import redeem
        except ImportError:
            return "client invitations are not available on this installation (no KYC service)"
        from ..store.db import open_store

        try:
            redeem(open_store(), code, username)
        except OtcError as e:
            return getattr(e, "message", None) or str(e)
        return None

    def get_handlers(self, app):
        swap = {SignUpHandler: InvitedSignUpHandler, NativeLoginHandler: LoginHandler}
        return [(p, swap.get(h, h)) for p, h in super().get_handlers(app)]
