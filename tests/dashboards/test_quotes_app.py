"""The quote-review app in a real browser (Playwright driving Debian's Chromium), the whole flow:
``otclab quotes serve`` runs the WeCom callback and the workers on a temporary store with a
counterparty contact; ``panel serve dashboards/quotes.py`` runs the app with a login (two traders,
basic auth); tests/wecom_server.py plays WeCom's reply API. A client's message, signed and
encrypted as WeCom sends it, appears priced in the blotter; trader A edits a field (it reprices)
and approves; the reply reaches the WeCom server, which checks it as WeCom would; above the
four-eyes notional A's second approval is refused with the reason and trader B's approval sends
the quote; an expired quote cannot be approved; the client's acceptance books the trade, found in
the store. ``OTCLAB_SCREENSHOTS=DIR`` also writes the trader's screens there (docs/ holds them)."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from otclab.dashboards.browser import chromium_path, launch
from otclab.dashboards.panel_server import PanelServer, login
from otclab.dashboards.child_server import free_port
from otclab.store.db import Store
from served import stop_service
from served import wait_until as _wait
from wecom_server import WeComServer, post_callback, robot_text_message, sign_and_encrypt_robot

playwright = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(chromium_path() is None, reason="Debian's chromium is not installed")

TOKEN = "QDG6eK"
AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
TRADERS = {"alice": "alice-pw-1", "bob": "bob-pw-2"}
VALIDITY_S = 75             # long enough for a trader's steps on a busy CI machine, short enough to see one expire
FOUR_EYES = 30_000_000
CHAT = "wrkSFfCgAAtest"
CLIENT = "client01"


def _seed(store: Store) -> dict:
    """A market snapshot and the client's WeCom contact (approved)."""
    from otclab.book.synthetic import UNDERLYINGS
    from otclab.core.dates import Date
    from otclab.store import markets
    from otclab.workflows.demo import base_market, counterparties
    from otclab.workflows.quotes import contacts

    with store.begin() as c:
        markets.put(c, base_market(Date(2025, 12, 30), UNDERLYINGS), "test")
    cp = counterparties(3, 7)[0]
    contacts.add(store, CLIENT, cp["id"], cp["name"], cp["uscc"], "approved", by="test")
    from otclab.kyc.demo import onboard

    onboard(store, [cp], by="test-operations")   # quoting and booking need the client onboarded (KYC)
    return cp


@pytest.fixture(scope="module")
def desk(tmp_path_factory, request):
    tmp = tmp_path_factory.mktemp("quotes")
    failed_before = request.session.testsfailed
    url = f"sqlite:///{tmp / 'otclab.db'}"
    store = Store(url)
    cp = _seed(store)
    creds = tmp / "traders.json"
    creds.write_text(json.dumps(TRADERS), encoding="utf-8")
    cfg = tmp / "quotes.toml"
    cfg.write_text(f'token = "{TOKEN}"\nencoding_aes_key = "{AES_KEY}"\nvalidity_s = {VALIDITY_S}\n'
                   f'four_eyes_notional = {FOUR_EYES}\nevidence_log = "{tmp / "evidence.sqlite"}"\n', encoding="utf-8")
    port = free_port()
    env = {**os.environ, "OTCLAB_QUOTES_CONFIG": str(cfg)}
    with WeComServer() as wecom:
        log = open(tmp / "service.log", "wb")
        service = subprocess.Popen([sys.executable, "-m", "otclab.cli.main", "quotes", "serve", "--store", url,
                                    "--config", str(cfg), "--port", str(port)], env=env, stdout=log,
                                   stderr=subprocess.STDOUT)
        try:
            _wait(lambda: b"listening on" in (tmp / "service.log").read_bytes() or service.poll() is not None, 120,
                  "the quote service")
            assert service.poll() is None, (tmp / "service.log").read_text()
            with PanelServer(url, basic_auth=creds, env={"OTCLAB_QUOTES_CONFIG": str(cfg), "OTCLAB_QUOTES_POLL": "1"},
                             log=tmp / "panel.log") as app, playwright.sync_playwright() as p:
                browser = launch(p)
                pages = {}
                for user, pw in TRADERS.items():
                    ctx = browser.new_context(viewport={"width": 1800, "height": 1250})
                    page = ctx.new_page()
                    login(page, app, user, pw)
                    page.locator(".q-user").wait_for(timeout=60_000)
                    pages[user] = page
                shots = Path(os.environ["OTCLAB_SCREENSHOTS"]) if os.environ.get("OTCLAB_SCREENSHOTS") else None
                yield {"store": store, "wecom": wecom, "callback": f"http://127.0.0.1:{port}/wecom/callback",
                       "a": pages["alice"], "b": pages["bob"], "tmp": tmp, "cp": cp, "shots": shots, "quotes": {}}
                browser.close()
        finally:
            rc = stop_service(service, log, tmp, ("service.log", "panel.log"),
                              request.session.testsfailed > failed_before)
    assert rc == 0, f"the quote service did not stop cleanly on SIGTERM ({rc})"


# ---- helpers: what a trader does and sees ---------------------------------------------------------
def _post(desk, text: str) -> None:
    """The client @-mentions the bot in the group: WeCom's signed, encrypted POST to the callback."""
    from otclab.wecom.crypto import WeComCrypto

    msg = robot_text_message(f"@报价机器人 {text}", userid=CLIENT, chatid=CHAT,
                             response_url=desk["wecom"].new_response_url(CHAT))
    query, body = sign_and_encrypt_robot(WeComCrypto(TOKEN, AES_KEY, ""), msg)
    r = post_callback(desk["callback"], query, body)
    assert r.status_code == 200 and r.content == b""


def _row(page, quote_id: str):
    return page.locator(".tabulator-row", has=page.locator(".tabulator-cell[tabulator-field=quote_id]",
                                                           has_text=re.compile(f"^{re.escape(quote_id)}$")))


def _cells(page, quote_id: str) -> dict:
    return _row(page, quote_id).evaluate(
        "r => Object.fromEntries([...r.querySelectorAll('.tabulator-cell')].map("
        "c => [c.getAttribute('tabulator-field'), c.textContent.trim()]))")


def _quote_of(desk, text: str) -> dict:
    """The newest quote of the message ``text``, from the store (through the service)."""
    from otclab.workflows.quotes import service

    def find():
        rows = [r for r in service.list_quotes(desk["store"]) if r["message_text"] == text]
        return rows[0] if rows and rows[0]["state"] == "pending_approval" else None
    return _wait(find, 60, f"a priced quote of {text!r}")


def _select(page, quote_id: str) -> None:
    row = _row(page, quote_id)
    row.wait_for(timeout=30_000)
    row.locator(".tabulator-cell[tabulator-field=client]").click()
    _wait(lambda: page.locator(f".q-detail-id[data-quote='{quote_id}']").count() == 1, 20, f"{quote_id}'s detail")


def _message(page) -> str:
    """The message bar's text ("" while it is hidden)."""
    loc = page.locator(".q-message div")
    return loc.first.inner_text() if loc.count() else ""


def _click(page, button: str, expect: str, timeout: float = 30) -> str:
    """Click an action button; the message bar's new text, once it contains ``expect``."""
    before = _message(page)
    page.get_by_role("button", name=button).click()
    return _wait(lambda: (lambda m: m if m != before and expect in m else None)(_message(page)), timeout,
                 f"{expect!r} after {button}")


def _shot(desk, page, name: str, toasts: bool = True) -> None:
    """A full-page screenshot (``toasts=False``: once the notifications have faded)."""
    if not toasts:
        _wait(lambda: page.locator(".notyf__toast").count() == 0, 20, "the notifications to fade")
    path = desk["tmp"] / name
    page.screenshot(path=str(path), full_page=True)
    if desk["shots"] is not None:
        desk["shots"].mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, desk["shots"] / name)


# ---- the flow -------------------------------------------------------------------------------------
EXPIRING = "300ETF 平值看涨 3个月 名本2000w 报个价"
SMALL = "500雪球 敲出103 敲入75 12个月 名本1000w 票息多少"
LARGE = "1000雪球 100/70 两年 名本5000w 报个票息"
REJECTED = "500雪球 100/80 6个月 名本1000w 票息多少"
FRESH = "500 看跌 平值 6个月 名本3000w 报个价"
SENT = "300ETF 虚值5% 看跌 1个月 名本1000w 报个价"


def test_a_message_posted_as_wecom_does_appears_priced_in_the_blotter(desk):
    a = desk["a"]
    a.evaluate("window.__otc_not_reloaded = 42")
    _post(desk, EXPIRING)              # left alone: it runs out while the others are handled
    _post(desk, SMALL)
    exp, q = _quote_of(desk, EXPIRING), _quote_of(desk, SMALL)
    desk["quotes"].update(expiring=exp["quote_id"], small=q["quote_id"])
    _row(a, q["quote_id"]).wait_for(timeout=30_000)
    cells = _cells(a, q["quote_id"])
    assert cells["state"] == "pending 待审批" and cells["underlying"] == "000905.SH"
    assert cells["structure"] == "snowball" and cells["tenor"] == "12M" and cells["notional"] == "1,000万"
    assert cells["price"] == f"{100 * q['fair_coupon']:.2f}%" and cells["engine"] == q["engine"]
    assert cells["client"] == desk["cp"]["name"]
    assert re.fullmatch(r"0[01]:\d\d", cells["expires_in"])
    # newest first: the second message's quote is above the first's
    ids = a.locator(".tabulator-cell[tabulator-field=quote_id]").all_inner_texts()
    assert ids.index(q["quote_id"]) < ids.index(exp["quote_id"])
    # the countdown ticks without a reload
    first = cells["expires_in"]
    _wait(lambda: _cells(a, q["quote_id"]).get("expires_in") != first, 10, "the countdown to tick")
    assert a.evaluate("window.__otc_not_reloaded") == 42


def test_the_detail_shows_the_chat_beside_the_parsed_fields_the_price_and_the_reply(desk):
    a, qid = desk["a"], desk["quotes"]["small"]
    _select(a, qid)
    assert a.locator(".q-chat").inner_text() == SMALL
    assert a.locator(".q-field-ki_barrier input").input_value() == "0.75"
    assert a.locator(".q-field-ko_barrier input").input_value() == "1.03"
    price = a.locator(".q-price-table").inner_text()
    assert "engine 引擎" in price and "std. error" in price and "template 模板" in price
    reply = a.locator(".q-reply").inner_text()
    assert "票息" in reply and qid in reply and desk["cp"]["name"] in reply
    assert a.locator(".q-reply-to").inner_text() == f"to group {CHAT}, @-mentioning {CLIENT}"


def test_an_edit_reprices_and_an_approval_sends_the_reply_as_wecom_accepts_it(desk):
    from otclab.workflows.quotes import service

    a, qid = desk["a"], desk["quotes"]["small"]
    before = service.get_quote(desk["store"], qid)
    inp = a.locator(".q-field-ki_barrier input")
    inp.fill("0.70")
    inp.press("Enter")
    try:
        msg = _wait(lambda: (lambda m: m if "repriced" in m else None)(_message(a)), 60, "the repriced quote")
    except AssertionError as e:
        # seen once under a loaded CI run: say what the page and the store showed
        revs = [q["quote_id"] for q in service.list_quotes(desk["store"])]
        raise AssertionError(f"{e}; message bar {_message(a)!r}; input now {inp.input_value()!r}; "
                             f"quotes in the store {revs}") from None
    new_id = re.search(r"as quote (\S+):", msg).group(1)
    new = service.get_quote(desk["store"], new_id)
    assert new["supersedes"] == qid and new["fields"]["ki_barrier"] == 0.70 and new["maker"] == "alice"
    assert new["fair_coupon"] != before["fair_coupon"]
    shown = float(re.search(r"([0-9.]+)%\s*$", msg).group(1))
    assert abs(shown - 100 * new["fair_coupon"]) <= 0.005 + 1e-9      # the message rounds to 2 decimals
    # the page follows the new revision; the old one is marked superseded in the blotter
    _wait(lambda: a.locator(f".q-detail-id[data-quote='{new_id}']").count() == 1, 20, "the new revision's detail")
    assert f"{100 * new['fair_coupon']:.2f}%" in a.locator(".q-price-table").inner_text()
    _wait(lambda: _row(a, qid).count() == 1 and _cells(a, qid).get("state") == "superseded 已修改", 20, "superseded")
    # below the four-eyes notional one approval sends it
    n = len(desk["wecom"].messages)
    msg = _click(a, "Approve 批准", "approved by alice")
    assert "the reply goes to the chat" in msg
    # WeCom's reply API accepted it (the local server checks shape, size, one use of the response_url)
    sent = desk["wecom"].wait_for(n + 1, timeout=30)[n]
    assert sent["kind"] == "response_url" and sent["chat_id"] == CHAT
    assert sent["body"]["msgtype"] in ("markdown", "text")
    # the text the trader saw before approving is what the group gets, @-mentioning the client
    assert new["reply_preview"] in sent["text"] and new_id in sent["text"]
    assert f"<@{CLIENT}>" in sent["text"] or CLIENT in (sent["mentioned"] or [])
    desk["quotes"]["small"] = new_id
    _wait(lambda: _cells(a, new_id).get("state") in ("approved 已批准", "sent 已发送"), 20, "approved in the blotter")


def test_above_the_four_eyes_notional_a_second_trader_must_approve(desk):
    a, b = desk["a"], desk["b"]
    _post(desk, LARGE)
    q = _quote_of(desk, LARGE)
    qid = desk["quotes"]["large"] = q["quote_id"]
    assert q["notional"] > FOUR_EYES
    _select(a, qid)
    assert "four-eyes" in a.locator(".q-detail-head div").first.inner_text() or \
        "four-eyes" in a.locator(".q-four-eyes").inner_text()
    msg = _click(a, "Approve 批准", "approved by alice")
    assert "a second trader (not alice) must approve" in msg
    n = len(desk["wecom"].messages)
    _wait(lambda: a.locator(".notyf__toast").count() == 0, 20, "the notifications to fade")
    msg = _click(a, "Approve 批准", "refused")
    # the refusal also shows as a notification
    a.locator(".notyf__toast--error", has_text="a second approver different from alice").wait_for(timeout=10_000)
    assert msg == (f"quote {qid}: approval refused: quote {qid} is above the four-eyes notional (30,000,000 CNY): "
                   "a second approver different from alice is needed")
    _wait(lambda: "maker alice" in a.locator(".q-four-eyes").inner_text(), 20, "the maker in the detail")
    time.sleep(0.5)          # the toast's slide-in animation (0.3 s)
    _shot(desk, a, "quotes-four-eyes.png")
    # trader B, in another browser session, approves: the quote goes to the chat
    _select(b, qid)
    msg = _click(b, "Approve 批准", "approved by bob")
    assert "the reply goes to the chat" in msg
    sent = desk["wecom"].wait_for(n + 1, timeout=30)[n]
    assert qid in sent["text"]
    from otclab.workflows.quotes import service
    row = service.get_quote(desk["store"], qid)
    assert row["maker"] == "alice" and row["checkers"] == ["bob"]
    assert [e["by"] for e in row["history"] if e["to_state"] in ("pending_approval", "approved")][-2:] == \
        ["alice", "bob"]


def test_the_clients_acceptance_books_the_trade(desk):
    from otclab.store.book import load_book
    from otclab.workflows.quotes import service

    a, qid = desk["a"], desk["quotes"]["large"]
    _select(a, qid)
    msg = _click(a, "Client accepted 客户成交", "booked as trade")
    tid = re.search(r"booked as trade (\S+) by alice", msg).group(1)
    _wait(lambda: a.locator(".q-trade-id").count() == 1, 20, "the trade id on the page")
    assert tid in a.locator(".q-trade-id").inner_text()
    q = service.get_quote(desk["store"], qid)
    assert q["state"] == "booked"
    with desk["store"].connect() as conn:
        found = load_book(conn, trade_ids=[tid])
    assert len(found) == 1
    rec = found[0].record
    assert rec.template == q["template"] and rec.template_version == q["template_version"]
    assert rec.counterparty.id == desk["cp"]["id"] and rec.direction == "sell"
    assert float(rec.terms.notional) == q["notional"]
    assert found[0].version_id and [e["by"] for e in q["history"]][-1] == "alice"
    _wait(lambda: _cells(a, qid).get("state") == "booked 已成交", 20, "booked in the blotter")


def test_a_rejection_needs_a_reason(desk):
    b = desk["b"]
    _post(desk, REJECTED)
    q = _quote_of(desk, REJECTED)
    _select(b, q["quote_id"])
    msg = _click(b, "Reject 拒绝", "refused")
    assert msg == f"quote {q['quote_id']}: rejection refused: a reason is required"
    b.locator(".q-reason input").fill("client's limit is full")
    msg = _click(b, "Reject 拒绝", "rejected by bob")
    assert msg == f"quote {q['quote_id']}: rejected by bob (client's limit is full)"
    _wait(lambda: _cells(b, q["quote_id"]).get("state") == "rejected 已拒绝", 20, "rejected in the blotter")


def test_an_expired_quote_cannot_be_approved(desk):
    from otclab.workflows.quotes import service

    b, qid = desk["b"], desk["quotes"]["expiring"]
    _wait(lambda: _cells(b, qid).get("expires_in") == "expired", VALIDITY_S + 30, "the first quote to expire")
    _select(b, qid)
    msg = _click(b, "Approve 批准", "refused")
    assert msg.startswith(f"quote {qid}: approval refused:") and "expired" in msg
    assert "cannot be approved" in msg
    _wait(lambda: _cells(b, qid).get("state") == "expired 已过期", 20, "expired in the blotter")
    assert service.get_quote(desk["store"], qid)["state"] == "expired"
    assert not any(qid in t for t in desk["wecom"].texts())


def test_the_blotter_a_trader_sees(desk):
    """New requests land on top while trader A looks at a booked quote: the selection and the
    detail pane stay on it; trader B approves one of them; the blotter shows the states of the day."""
    a, b, large = desk["a"], desk["b"], desk["quotes"]["large"]
    _select(a, large)
    _post(desk, SENT)
    sent = _quote_of(desk, SENT)
    _select(b, sent["quote_id"])
    n = len(desk["wecom"].messages)
    _click(b, "Approve 批准", "approved by bob")
    desk["wecom"].wait_for(n + 1, timeout=30)
    _post(desk, FRESH)
    q = _quote_of(desk, FRESH)
    _row(a, q["quote_id"]).wait_for(timeout=30_000)
    _wait(lambda: _cells(a, sent["quote_id"]).get("state") == "sent 已发送", 20, "the approved quote sent")
    ids = a.locator(".tabulator-cell[tabulator-field=quote_id]").all_inner_texts()
    assert ids[:2] == [q["quote_id"], sent["quote_id"]]
    selected = a.locator(".tabulator-row.tabulator-selected .tabulator-cell[tabulator-field=quote_id]")
    _wait(lambda: selected.count() == 1 and selected.inner_text() == large, 20, "the selection kept on the booked quote")
    assert a.locator(f".q-detail-id[data-quote='{large}']").count() == 1
    states = {c.get("state") for c in (_cells(a, i) for i in ids)}
    assert {"pending 待审批", "sent 已发送", "superseded 已修改", "booked 已成交", "rejected 已拒绝",
            "expired 已过期"} <= states
    _shot(desk, a, "quotes-blotter.png", toasts=False)
