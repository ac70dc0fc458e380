"""The front door in a real browser (Playwright driving Debian's Chromium): the hub
(``deploy/jupyterhub_config.py``, with configurable-http-proxy) started on a free localhost port
on a demo store in a temporary data folder, with its demo logins; one hub for the whole module.

A trader logs in, opens the risk dashboard and the quote app, and approves a quote in their own
name; an operations user sees the quote app but the approval is refused naming the scope, and
gets 403 from an app their roles do not reach; a quant's JupyterLab runs the quickstart's first
cells; an invited client signs up with the invitation code and reaches only the KYC form.
``OTCLAB_SCREENSHOTS=DIR`` also writes the screens there (docs/ holds them)."""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from otclab.dashboards.browser import chromium_path, launch
from otclab.hub.paths import PROXY
from otclab.hub.run import HubServer
from otclab.store.db import Store
from served import wait_until as _wait

playwright = pytest.importorskip("playwright.sync_api")
pytestmark = [pytest.mark.skipif(chromium_path() is None, reason="Debian's chromium is not installed"),
              pytest.mark.skipif(not PROXY.exists(), reason="configurable-http-proxy is not installed "
                                                            "(scripts/bootstrap: npm ci --prefix deploy)")]

TEXTS = ("500雪球 敲出103 敲入75 12个月 名本1000w 票息多少", "300ETF 平值看涨 3个月 名本2000w 报个价")


def _seed_quotes(store, tmp: Path) -> tuple[Path, list[dict]]:
    """The quote workflow's test market and contacts, and two chat requests priced into quotes
    awaiting approval (the service's own functions, as its workers would)."""
    sys.path.insert(0, str(Path(__file__).parents[1] / "quotes"))      # the quote tests' support module
    from quotes_support import AES_KEY, TOKEN, inbound, seed_store

    from otclab.workflows.quotes import service
    from otclab.workflows.quotes.config import QuoteConfig

    cfg = tmp / "quotes.toml"
    cfg.write_text(f'token = "{TOKEN}"\nencoding_aes_key = "{AES_KEY}"\nvalidity_s = 3600\n'
                   f'four_eyes_notional = 30000000\nevidence_log = "{tmp / "evidence.sqlite"}"\n', encoding="utf-8")
    seed_store(store)
    service.configure(QuoteConfig(token=TOKEN, encoding_aes_key=AES_KEY, validity_s=3600,
                                  four_eyes_notional=30_000_000, evidence_log=str(tmp / "evidence.sqlite")))
    try:
        for text in TEXTS:
            assert service.receive(store, inbound(text))
        service.process_pending(store)
        by_text = {q["message_text"]: q for q in service.list_quotes(store)}
    finally:
        service.configure(None)
    quotes = [by_text[t] for t in TEXTS]
    assert all(q["state"] == "pending_approval" for q in quotes), quotes
    return cfg, quotes


@pytest.fixture(scope="module")
def hub(tmp_path_factory, request):
    from otclab.workflows.demo import init_demo

    tmp = tmp_path_factory.mktemp("hub")
    failed_before = request.session.testsfailed
    init_demo(tmp, trades=12, paths=300, log=lambda *_: None)
    url = f"sqlite:///{tmp / 'otclab.db'}"
    store = Store(url)
    cfg, quotes = _seed_quotes(store, tmp)
    server = HubServer(url, data=tmp / "hub", log=tmp / "hub.log",
                       env={"OTCLAB_DATA": str(tmp), "OTCLAB_QUOTES_CONFIG": str(cfg), "OTCLAB_QUOTES_POLL": "1"})
    # the state of the hub lives in the data folder, never in the repository
    assert not any(Path("deploy").glob("jupyterhub*.sqlite")) and not Path("deploy/jupyterhub_cookie_secret").exists()
    try:
        with server, playwright.sync_playwright() as p:
            browser = launch(p)
            shots = Path(os.environ["OTCLAB_SCREENSHOTS"]) if os.environ.get("OTCLAB_SCREENSHOTS") else None
            yield {"server": server, "url": server.url.rstrip("/"), "store": store, "browser": browser,
                   "quotes": quotes, "tmp": tmp, "shots": shots}
            browser.close()
    finally:
        if request.session.testsfailed > failed_before and (tmp / "hub.log").exists():
            print(f"\n--- hub.log (last 6000 characters)\n{(tmp / 'hub.log').read_text()[-6000:]}", file=sys.__stderr__)
    assert (tmp / "hub" / "jupyterhub.sqlite").exists() and (tmp / "hub" / "jupyterhub_cookie_secret").exists()


def _shot(hub, page, name: str) -> None:
    path = hub["tmp"] / name
    page.screenshot(path=str(path), full_page=False)
    if hub["shots"] is not None:
        hub["shots"].mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, hub["shots"] / name)


def _login(hub, user: str, password: str | None = None, shot: str | None = None):
    """A new browser session logged in as ``user`` on the hub's login page."""
    ctx = hub["browser"].new_context(viewport={"width": 1500, "height": 950})
    page = ctx.new_page()
    page.goto(hub["url"] + "/hub/login")
    page.locator("input[name=username]").fill(user)
    page.locator("input[name=password]").fill(password or hub["server"].logins[user]["password"])
    if shot:
        _shot(hub, page, shot)
    page.locator("input[name=password]").press("Enter")
    page.wait_for_load_state()
    return page


def _status(page, path: str) -> int:
    """The HTTP status a logged-in browser gets for ``path`` (after the OAuth redirects)."""
    r = page.goto(path)
    return r.status if r else 0


# ---- the trader -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def trader(hub):
    page = _login(hub, "tara", shot="hub-login.png")
    assert page.url.endswith("/hub/home")
    return page


def test_a_wrong_password_is_refused(hub):
    page = _login(hub, "tara", password="not-the-password")
    assert "/hub/login" in page.url
    assert "Invalid username or password" in page.content()
    page.context.close()


def test_the_trader_lands_on_the_hub_home_with_the_apps(hub, trader):
    services = trader.locator("a[href*='/services/']")
    hrefs = {services.nth(i).get_attribute("href") for i in range(services.count())}
    assert {"/services/risk/", "/services/quotes/"} <= {h.split("?")[0] for h in hrefs if h}
    trader.get_by_text("Services").first.click()
    _shot(hub, trader, "hub-home.png")
    # the layout tool is operations' alone
    assert _status(trader, hub["url"] + "/services/confirm-layouts/") == 403


def test_the_trader_opens_the_risk_dashboard(hub, trader):
    trader.goto(hub["url"] + "/services/risk/")
    snap = trader.locator(".otc-snapshot-id")
    snap.wait_for(timeout=120_000)
    from otclab.store import risk

    with hub["store"].connect() as conn:
        latest = risk.latest_id(conn, "eod") or risk.latest_id(conn, "refresh")
    assert int(snap.inner_text()) == latest
    trader.wait_for_timeout(1000)          # the charts drawn
    _shot(hub, trader, "hub-risk.png")


def test_the_trader_approves_a_quote_in_their_own_name(hub, trader):
    from otclab.workflows.quotes import service

    q = hub["quotes"][0]
    trader.goto(hub["url"] + "/services/quotes/")
    trader.locator(".q-user").wait_for(timeout=60_000)
    assert trader.locator(".q-user").inner_text() == "tara"
    row = trader.locator(".tabulator-row", has=trader.locator(".tabulator-cell[tabulator-field=quote_id]",
                                                                has_text=q["quote_id"]))
    row.wait_for(timeout=30_000)
    row.locator(".tabulator-cell[tabulator-field=client]").click()
    trader.locator(f".q-detail-id[data-quote='{q['quote_id']}']").wait_for(timeout=20_000)
    trader.get_by_role("button", name="Approve 批准").click()
    msg = _wait(lambda: (lambda m: m if "approved by" in m or "refused" in m else None)(
        trader.locator(".q-message div").first.inner_text() if trader.locator(".q-message div").count() else ""),
        60, "the approval's message")
    assert msg.startswith(f"quote {q['quote_id']}: approved by tara"), msg
    after = service.get_quote(hub["store"], q["quote_id"])
    assert after["state"] in ("approved", "sent") and after["checkers"] == ["tara"]
    assert [e["by"] for e in after["history"] if e["to_state"] == "approved"] == ["tara"]
    trader.wait_for_timeout(500)
    _shot(hub, trader, "hub-quotes.png")


# ---- operations: sees the quotes, may not decide; no access to the client's form ------------------
def test_an_operations_user_is_refused_the_approval_naming_the_scope(hub):
    from otclab.access import QUOTE_APPROVE
    from otclab.workflows.quotes import service

    q = hub["quotes"][1]
    page = _login(hub, "otto")
    page.goto(hub["url"] + "/services/quotes/")
    page.locator(".q-user").wait_for(timeout=60_000)
    assert page.locator(".q-user").inner_text() == "otto"
    row = page.locator(".tabulator-row", has=page.locator(".tabulator-cell[tabulator-field=quote_id]",
                                                          has_text=q["quote_id"]))
    row.wait_for(timeout=30_000)
    row.locator(".tabulator-cell[tabulator-field=client]").click()
    page.locator(f".q-detail-id[data-quote='{q['quote_id']}']").wait_for(timeout=20_000)
    page.get_by_role("button", name="Approve 批准").click()
    msg = _wait(lambda: (lambda m: m if "refused" in m else None)(
        page.locator(".q-message div").first.inner_text() if page.locator(".q-message div").count() else ""),
        60, "the refusal")
    assert msg == (f"quote {q['quote_id']}: approval refused: otto may not decide on quote {q['quote_id']}: "
                   f"it needs the scope {QUOTE_APPROVE} (held by the groups trader)")
    assert service.get_quote(hub["store"], q["quote_id"])["state"] == "pending_approval"
    # the client's form is not an operations user's: the hub answers 403
    assert _status(page, hub["url"] + "/services/kyc-client/") == 403
    # operations' own tool behind the hub acts for the hub's user
    page.goto(hub["url"] + "/services/confirm-layouts/")
    page.locator(".lt-user", has_text="otto").wait_for(timeout=60_000)
    page.context.close()


# ---- the quant: JupyterLab, the quickstart --------------------------------------------------------
def test_a_quant_runs_the_quickstart_in_jupyterlab(hub):
    page = _login(hub, "quinn")
    page.goto(hub["url"] + "/hub/spawn")
    page.wait_for_url("**/user/quinn/lab**", timeout=150_000)
    page.goto(hub["url"] + "/user/quinn/lab/tree/notebooks/quickstart.ipynb")
    page.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=120_000)
    # the kernel started and idle (the status bar says so)
    page.locator("#jp-main-statusbar", has_text="Idle").first.wait_for(timeout=120_000)
    # the parameters cell, then the templates table: run the first two code cells as a person does
    code = page.locator(".jp-Notebook .jp-CodeCell")
    code.nth(0).locator(".jp-InputArea-editor").click()
    page.keyboard.press("Shift+Enter")
    code.nth(1).locator(".jp-InputArea-editor").click()
    page.keyboard.press("Shift+Enter")
    out = code.nth(1).locator(".jp-OutputArea-output")
    try:
        _wait(lambda: out.count() > 0 and "snowball" in out.first.inner_text(), 150, "the templates table")
    except AssertionError:
        _shot(hub, page, "hub-lab-failed.png")
        raise
    # the user's own copy of the notebook, in their home folder under the hub folder
    assert (hub["tmp"] / "hub" / "homes" / "quinn" / "notebooks" / "quickstart.ipynb").exists()
    import otclab

    text = out.first.inner_text()
    assert all(t.name in text for t in otclab.list_templates())
    _shot(hub, page, "hub-lab.png")
    page.context.close()


# ---- an invited client ------------------------------------------------------------------------------
def test_an_invited_client_reaches_only_the_kyc_form(hub):
    kyc = pytest.importorskip("otclab.kyc.service", reason="the KYC service (otclab/kyc/service.py) is not there yet")
    code = _invitation(kyc, hub["store"])
    ctx = hub["browser"].new_context(viewport={"width": 1500, "height": 950})
    page = ctx.new_page()
    page.goto(hub["url"] + "/hub/signup")
    page.locator("input[name=invitation]").fill(code)
    page.locator("input[name=username]").fill("acme-cfo")
    page.locator("input[name=signup_password]").fill("Kyc-client-pw-9")
    page.locator("input[name=signup_password_confirmation]").fill("Kyc-client-pw-9")
    page.locator("input[name=signup_password_confirmation]").press("Enter")
    page.wait_for_load_state()
    assert "Invitation accepted" in page.content(), page.content()[-2000:]
    page.context.close()
    page = _login(hub, "acme-cfo", password="Kyc-client-pw-9")
    page.wait_for_url("**/services/kyc-client/**", timeout=60_000)
    page.locator(".kyc-user").wait_for(timeout=60_000)
    assert page.locator(".kyc-user").inner_text() == "acme-cfo"
    _shot(hub, page, "hub-kyc-client.png")
    for path in ("/services/quotes/", "/services/risk/", "/services/kyc-review/", "/services/confirm-breaks/"):
        assert _status(page, hub["url"] + path) == 403, path
    # no JupyterLab server of their own
    assert _status(page, hub["url"] + "/hub/spawn") == 403
    # a second sign-up with the same code is refused
    page.goto(hub["url"] + "/hub/signup")
    page.locator("input[name=invitation]").fill(code)
    page.locator("input[name=username]").fill("acme-other")
    page.locator("input[name=signup_password]").fill("Kyc-client-pw-9")
    page.locator("input[name=signup_password_confirmation]").fill("Kyc-client-pw-9")
    page.locator("input[name=signup_password_confirmation]").press("Enter")
    page.wait_for_load_state()
    assert "Sign-up refused" in page.content()
    page.context.close()


def _invitation(kyc, store) -> str:
    """An invitation code from the KYC service, as sales would send it."""
    from otclab.workflows.demo import counterparties

    cp = counterparties(3, 7)[2]
    return kyc.invite(store, institution=cp["name"], uscc=cp["uscc"], contact_name="王芳", contact="acme-cfo",
                      invited_by="sam").code
