"""The hub's pieces without a hub: the roles each group gets, the demo logins and the users file,
the apps' service entries, and the quote desk's scope check behind the hub."""
from __future__ import annotations

import json
import stat
import sys
from pathlib import Path

import pytest

from otclab.access import GROUPS, KYC_REVIEW, QUOTE_APPROVE, TEMPLATE_APPROVE, Identity, local_users
from otclab.core.errors import OtcError
from otclab.hub import logins
from otclab.hub import services as S


def test_each_group_gets_its_custom_scopes_its_apps_and_a_server_but_the_client():
    apps = list(S.APPS)
    roles = {r["name"]: r for r in S.roles(apps)}
    for g in GROUPS:
        assert roles[f"otclab-{g}"]["groups"] == [g]
    trader = set(roles["otclab-trader"]["scopes"])
    assert {QUOTE_APPROVE, "access:services!service=quotes", "access:services!service=risk", "self"} <= trader
    assert TEMPLATE_APPROVE in roles["otclab-risk"]["scopes"] and KYC_REVIEW in roles["otclab-risk"]["scopes"]
    assert set(roles["otclab-client"]["scopes"]) == {"access:services!service=kyc-client"}
    # the default role every user holds gives no server and no app
    assert not any(s.startswith(("access:", "servers", "self")) for s in roles["user"]["scopes"])
    assert set(roles["idle-culler"]["scopes"]) >= {"list:users", "delete:servers"}
    assert "access:services!service=quotes" not in roles["otclab-quant"]["scopes"]
    # operations' confirmation apps: the breaks view for operations and traders, the layout tool for operations
    ops, tr = set(roles["otclab-operations"]["scopes"]), set(roles["otclab-trader"]["scopes"])
    assert {"access:services!service=confirm-breaks", "access:services!service=confirm-layouts"} <= ops
    assert "access:services!service=confirm-breaks" in tr and "access:services!service=confirm-layouts" not in tr


def test_a_missing_app_is_left_out(tmp_path, caplog):
    here = S.App("here", "panel", Path(__file__), ("trader",))
    gone = S.App("gone", "panel", tmp_path / "nope.py", ("trader",))
    assert [a.name for a in S.present([here, gone])] == ["here"]
    assert "nope.py is not in the repository yet" in caplog.text


def test_a_panel_app_is_served_under_its_prefix_with_the_hub_login():
    app = next(a for a in S.APPS if a.name == "quotes")
    svc = S.app_service(app, 8000, {"OTCLAB_DB_URL": "sqlite:///x.db"}, port=9123)
    cmd = svc["command"]
    assert svc["url"] == "http://127.0.0.1:9123" and svc["oauth_client_allowed_scopes"] == [QUOTE_APPROVE]
    assert cmd[cmd.index("--prefix") + 1] == "/services/quotes/"
    assert cmd[cmd.index("--auth-module") + 1] == str(S.PANEL_AUTH)
    assert cmd.index("--auth-module") < cmd.index("--args") and cmd[-2:] == ["--store", "sqlite:///x.db"]
    assert "127.0.0.1:8000" in cmd and "--address" in cmd and cmd[cmd.index("--address") + 1] == "127.0.0.1"
    # the cookie secret is in the environment, not on the command line
    assert len(svc["environment"]["PANEL_COOKIE_SECRET"]) >= 32 and "--cookie-secret" not in cmd
    risk = S.app_service(next(a for a in S.APPS if a.name == "risk"), 8000, {}, port=9124)
    assert "--Voila.base_url=/services/risk/" in risk["command"]
    assert f"--Voila.identity_provider_class={S.VOILA_IDENTITY}" in risk["command"]


def test_the_demo_logins_are_generated_once_and_kept_private(tmp_path):
    path, users = tmp_path / "hub" / "demo-logins.json", tmp_path / "users.toml"
    path.parent.mkdir()
    first = logins.ensure(path, users)
    assert set(first) == {logins.ADMIN, *logins.DEMO_USERS}
    pws = [v["password"] for v in first.values()]
    assert len(set(pws)) == len(pws) and all(len(p) >= 12 for p in pws)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert logins.ensure(path, users) == first == json.loads(path.read_text())
    ids = local_users(users)
    assert ids["tara"].groups == {"trader"} and QUOTE_APPROVE in ids["tara"].scopes
    assert logins.ADMIN not in ids
    text = logins.table(first)
    assert "tara" in text and first["tara"]["password"] in text and "hub admin" in text


def test_the_users_file_keeps_what_is_there_and_refuses_an_unknown_group(tmp_path):
    users = tmp_path / "users.toml"
    users.write_text('[users.tara]\ngroups = ["risk"]\n', encoding="utf-8")
    logins.add_users({"tara": ["trader"], "new-client": ["client"]}, users)
    ids = local_users(users)
    assert ids["tara"].groups == {"risk"} and ids["new-client"].groups == {"client"}
    with pytest.raises(OtcError, match="unknown group.*wizard"):
        logins.add_users({"x": ["wizard"]}, users)


def test_behind_the_hub_a_quote_decision_needs_the_quote_approve_scope(tmp_path):
    sys.path.insert(0, str(Path(__file__).parents[1] / "quotes"))
    from quotes_support import AES_KEY, TOKEN, inbound, seed_store

    from otclab.dashboards.quotes import QuoteDesk
    from otclab.store.db import Store
    from otclab.workflows.quotes import service
    from otclab.workflows.quotes.config import QuoteConfig

    store = Store(f"sqlite:///{tmp_path / 'otclab.db'}")
    seed_store(store)
    service.configure(QuoteConfig(token=TOKEN, encoding_aes_key=AES_KEY, validity_s=3600,
                                  evidence_log=str(tmp_path / "evidence.sqlite")))
    try:
        service.receive(store, inbound("300ETF 平值看涨 3个月 名本2000w 报个价"))
        service.process_pending(store)
        qid = service.list_quotes(store)[0]["quote_id"]
        otto = Identity.of_groups("otto", ["operations"])
        out = QuoteDesk(store, otto.name, identity=otto).approve(qid)
        assert not out.ok and out.message == (f"quote {qid}: approval refused: otto may not decide on quote {qid}: "
                                              f"it needs the scope {QUOTE_APPROVE} (held by the groups trader)")
        assert not QuoteDesk(store, otto.name, identity=otto).reject(qid, "not mine").ok
        assert service.get_quote(store, qid)["state"] == "pending_approval"
        tara = Identity.of_groups("tara", ["trader"])
        out = QuoteDesk(store, tara.name, identity=tara).approve(qid)
        assert out.ok and "approved by tara" in out.message
        assert service.get_quote(store, qid)["checkers"] == ["tara"]
    finally:
        service.configure(None)
