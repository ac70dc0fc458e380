"""The quote-review app's actions against the real quote service on a temporary store (SQLite
and PostgreSQL, the fixtures of tests/store/conftest.py): what a trader's edit, approval,
rejection and acceptance answer, the refusals' wording, the blotter's change marker and rows
built from the service's own rows."""
from __future__ import annotations

import datetime as dt
import importlib.util
import itertools
from pathlib import Path

import pytest

from otclab.dashboards import quotes as v

_spec = importlib.util.spec_from_file_location("_store_fixtures_quotes_app",
                                               Path(__file__).parents[1] / "store" / "conftest.py")
_fx = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_fx)
db_url, store = _fx.db_url, _fx.store   # noqa: F401 (fixtures; pg_server is the session's, tests/conftest.py)
_ids = itertools.count(1)


@pytest.fixture
def desk(store, tmp_path):
    from otclab.book.synthetic import UNDERLYINGS
    from otclab.core.dates import Date
    from otclab.store import markets
    from otclab.workflows.demo import base_market, counterparties
    from otclab.workflows.quotes import contacts, service
    from otclab.workflows.quotes.config import QuoteConfig

    with store.begin() as c:
        markets.put(c, base_market(Date(2025, 12, 30), UNDERLYINGS), "test")
    cp = counterparties(3, 7)[0]
    contacts.add(store, "client01", cp["id"], cp["name"], cp["uscc"], "approved", by="test")
    from otclab.kyc.demo import onboard

    onboard(store, [cp], by="test-operations")   # quoting and booking need the client onboarded (KYC)
    service.configure(QuoteConfig(four_eyes_notional=30_000_000, validity_s=300,
                                  webhook_url="http://127.0.0.1:9/cgi-bin/webhook/send?key=unused",
                                  evidence_log=str(tmp_path / "evidence.sqlite")))
    yield store
    service.configure(None)


def _quote(store, text: str) -> dict:
    """The client's message through the service's inbox and processing: its quote."""
    from otclab.wecom.callback import InboundMessage
    from otclab.workflows.quotes import service

    msg = InboundMessage(channel="robot", msgid=f"m{next(_ids)}", raw_body=b'{"encrypt":"x"}',
                         query={"msg_signature": "s", "timestamp": "1", "nonce": "2"}, plaintext="{}", text=text,
                         sender="client01", chat_id="chat1", chat_type="group", response_url=None, webhook_url=None,
                         msgtype="text", received_at=dt.datetime.now(dt.timezone.utc))
    assert service.receive(store, msg)
    service.process_pending(store)
    rows = [r for r in service.list_quotes(store) if r["message_text"] == text]
    assert rows and rows[0]["state"] == "pending_approval", rows
    return rows[0]


def test_the_blotter_of_the_services_rows(desk):
    q = _quote(desk, "500雪球 敲出103 敲入75 12个月 名本1000w 票息多少")
    d = v.QuoteDesk(desk, "alice")
    f = v.blotter_frame(d.rows(), dt.datetime.now(dt.timezone.utc))
    r = f.iloc[0]
    assert r["quote_id"] == q["quote_id"] and r["state"] == "pending 待审批" and r["notional"] == "1,000万"
    assert r["price"] == f"{100 * q['fair_coupon']:.2f}%" and r["engine"] == q["engine"] and r["tenor"] == "12M"
    detail = v.detail_model(d.quote(q["quote_id"]), dt.datetime.now(dt.timezone.utc))
    assert detail.chat == "500雪球 敲出103 敲入75 12个月 名本1000w 票息多少"
    assert dict((f, t) for f, _l, t, _v in detail.fields)["ki_barrier"] == "0.75"
    assert detail.reply.startswith("您好") and q["quote_id"] in detail.reply
    assert f"{100 * q['fair_coupon']:.2f}%" in detail.reply
    assert detail.reply_to == "to group chat1, @-mentioning client01"


def test_an_edit_reprices_into_a_new_revision_and_bad_values_are_refused_naming_the_field(desk):
    q = _quote(desk, "500雪球 敲出103 敲入75 12个月 名本1000w 票息多少")
    d = v.QuoteDesk(desk, "alice")
    out = d.edit(q["quote_id"], "ki_barrier", "70%", 0.75)
    new = out.quote
    assert out.ok and new["supersedes"] == q["quote_id"] and new["fields"]["ki_barrier"] == 0.70
    assert out.message == (f"quote {q['quote_id']}: ki_barrier = 0.7 by alice, repriced as quote {new['quote_id']}: "
                           f"{100 * new['fair_coupon']:.2f}%")
    assert new["fair_coupon"] != q["fair_coupon"]
    bad = d.edit(new["quote_id"], "structure", "snowbal", "snowball")
    assert not bad.ok and bad.message.startswith(f"quote {new['quote_id']}: edit of structure refused: structure: "
                                                 "must be one of snowball")
    bad = d.edit(new["quote_id"], "ki_barrier", "seventy", 0.7)
    assert bad.message == f"quote {new['quote_id']}: edit refused: ki_barrier: 'seventy' is not a number " \
                          "(e.g. 1.03, 103%, 5000万)"
    # the superseded quote cannot be edited again: the service says why
    old = d.edit(q["quote_id"], "ki_barrier", "0.8", 0.75)
    assert old.message == (f"quote {q['quote_id']}: edit of ki_barrier refused: quote {q['quote_id']} is superseded; "
                           "only a quote pending approval (or failed) can be edited")


def test_four_eyes_the_same_trader_cannot_approve_twice_and_the_marker_moves(desk):
    q = _quote(desk, "1000雪球 100/70 两年 名本5000w 报个票息")
    a, b = v.QuoteDesk(desk, "alice"), v.QuoteDesk(desk, "bob")
    t0 = a.token()
    first = a.approve(q["quote_id"])
    assert first.ok and first.quote["state"] == "pending_approval"
    assert "a second trader (not alice) must approve" in first.message
    assert a.token() != t0
    again = a.approve(q["quote_id"])
    assert again.message == (f"quote {q['quote_id']}: approval refused: quote {q['quote_id']} is above the four-eyes "
                             "notional (30,000,000 CNY): a second approver different from alice is needed")
    ok = b.approve(q["quote_id"])
    assert ok.ok and ok.quote["state"] == "approved" and ok.quote["checkers"] == ["bob"]
    booked = b.accept(q["quote_id"])
    assert booked.ok and booked.trade_id == f"Q-{q['quote_id']}"
    assert booked.message == f"quote {q['quote_id']}: client accepted, booked as trade Q-{q['quote_id']} by bob"
    assert v.detail_model(b.quote(q["quote_id"]), dt.datetime.now(dt.timezone.utc)).trade_id == booked.trade_id


def test_a_rejection_needs_a_reason_and_nobody_logged_in_decides_nothing(desk):
    q = _quote(desk, "500雪球 100/80 6个月 名本1000w 票息多少")
    nobody = v.QuoteDesk(desk, None)
    out = nobody.approve(q["quote_id"])
    assert not out.ok and out.message.startswith(f"quote {q['quote_id']}: approval refused: nobody is logged in")
    d = v.QuoteDesk(desk, "bob")
    assert d.reject(q["quote_id"], "  ").message == f"quote {q['quote_id']}: rejection refused: a reason is required"
    out = d.reject(q["quote_id"], "limit full")
    assert out.ok and out.quote["state"] == "rejected"
    late = d.accept(q["quote_id"])
    assert late.message == (f"quote {q['quote_id']}: acceptance refused: quote {q['quote_id']} is rejected; it cannot "
                            "be accepted (booked) any more")
    # an approved quote the desk withdraws (a reason is required)
    w = _quote(desk, "500雪球 100/85 3个月 名本1000w 票息多少")
    assert d.approve(w["quote_id"]).ok
    assert d.cancel(w["quote_id"], "").message == f"quote {w['quote_id']}: withdrawal refused: a reason is required"
    out = d.cancel(w["quote_id"], "spot moved")
    assert out.ok and out.quote["state"] == "cancelled"
    assert out.message == f"quote {w['quote_id']}: withdrawn by bob (spot moved)"
    unknown = d.approve("Q999")
    assert unknown.message.startswith("quote Q999: approval refused: no quote 'Q999'")


def test_the_page_setting_its_own_field_inputs_is_not_taken_for_an_edit(desk):
    """The page's own update of a field (a newer revision read from the store) sets the input's
    value; with an event loop running (as under the Panel server) that must not run an edit, even
    after the page's "rendering" flag is down again (seen on CI: "ki_barrier unchanged" replaced
    the "repriced" message)."""
    import asyncio

    from otclab.dashboards.quotes_app import QuoteReviewPage
    from otclab.workflows.quotes import service

    q = _quote(desk, "500雪球 敲出103 敲入75 12个月 名本1000w 票息多少")
    page = QuoteReviewPage(desk, "alice")
    page.show(q["quote_id"])
    ki = next(w for w in page.fields if w._q_field == "ki_barrier")
    assert ki.value == "0.75"
    n = len(service.list_quotes(desk))

    async def refreshed():
        page.quote = {**page.quote, "fields": {**page.quote["fields"], "ki_barrier": 0.70}}
        page._render(rebuild=False)          # what the periodic look does with a changed quote
        await asyncio.sleep(0.5)             # any callback the setting scheduled runs now
    asyncio.run(refreshed())
    assert ki.value == "0.7" and ki._q_value == 0.70
    assert page.message.object == "" and len(service.list_quotes(desk)) == n

    async def typed():                       # the trader's own edit still reprices
        ki.value = "0.72"
        for _ in range(200):
            if "repriced" in (page.message.object or ""):
                return
            await asyncio.sleep(0.1)
    asyncio.run(typed())
    assert "ki_barrier = 0.72 by alice, repriced" in page.message.object
    assert len(service.list_quotes(desk)) == n + 1
