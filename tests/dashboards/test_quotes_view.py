"""The quote-review app's view logic on rows of the service's shape: the countdown, the order
and colours of the blotter, what an update or a tick changes in place, field values as typed,
the detail pane."""
from __future__ import annotations

import datetime as dt

import pytest

from otclab.dashboards import quotes as v

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 12, 2, 2, 0, 0, tzinfo=UTC)


def row(qid, state="pending_approval", created=-60, valid=240, **kw):
    r = {"quote_id": qid, "state": state, "created_at": (NOW + dt.timedelta(seconds=created)).isoformat(),
         "valid_until": (NOW + dt.timedelta(seconds=valid)).isoformat(), "seconds_left": valid, "sender": "wx_li",
         "counterparty_name": "华夏资管", "chat_id": "c1", "underlying": "000905.SH", "structure": "snowball",
         "tenor": 12.0, "notional": 5e7, "solve_for": "coupon", "value": 50_000_000.0, "value_pct": 1.0,
         "fair_coupon": 0.1523, "participation": None, "price": None, "vol": 0.22, "engine": "mc",
         "std_err": 41_234.5, "maker": None, "checkers": [], "needs_second_approval": False,
         "message_text": "500雪球 100/75 1年 报个票息", "revision": 0, "supersedes": None, "error": None}
    r.update(kw)
    return r


@pytest.mark.parametrize("valid,state,text,left", [
    (240, "pending_approval", "04:00", 240), (61.1, "priced", "01:02", 62), (0.5, "approved", "00:01", 1),
    (0, "pending_approval", "expired", 0), (-30, "sent", "expired", 0), (100, "expired", "expired", 0),
    (100, "rejected", "–", None), (100, "cancelled", "–", None)])
def test_the_countdown_runs_while_a_quote_is_live_and_marks_it_expired(valid, state, text, left):
    assert v.countdown(NOW + dt.timedelta(seconds=valid), state, NOW) == (text, left)


def test_a_naive_time_is_utc_and_iso_strings_are_read():
    assert v.countdown(dt.datetime(2026, 12, 2, 2, 2, 5), "priced", NOW) == ("02:05", 125)
    assert v.countdown("2026-12-02T02:01:00+00:00", "priced", NOW) == ("01:00", 60)
    assert v.cst_text(NOW) == "10:00:00"


def test_the_blotter_is_newest_first_with_the_desk_formats():
    rows = [row(1, created=-300), row(3, created=-10, state="priced", notional=1.5e8),
            row(2, created=-100, state="rejected")]
    f = v.blotter_frame(rows, NOW)
    assert list(f["quote_id"]) == [3, 2, 1]
    assert list(f.columns) == v.COLUMNS
    first = f.iloc[0].to_dict()
    assert first["time"] == "09:59:50" and first["state"] == "priced 已定价" and first["expires_in"] == "04:00"
    assert first["notional"] == "1.5亿" and first["price"] == "15.23%" and first["std_err"] == "41,234"
    assert first["tenor"] == "12M" and first["client"] == "华夏资管" and first["engine"] == "mc"
    assert f.iloc[1]["expires_in"] == "–" and f.iloc[2]["notional"] == "5,000万"


def test_row_colours_follow_the_state():
    f = v.blotter_frame([row(1, state="approved"), row(2, state="expired", created=-1)], NOW)
    css = v.row_styles(f)
    assert set(css.iloc[0]) == {f"background-color: {v.STATE_COLOURS['expired']}"}
    assert set(css.iloc[1]) == {f"background-color: {v.STATE_COLOURS['approved']}"}
    assert v.STATE_COLOURS["approved"] != v.STATE_COLOURS["expired"]


def test_an_update_patches_changed_cells_and_new_quotes_replace_the_frame_keeping_the_selection():
    b = v.Blotter()
    c = b.update([row(1, created=-200), row(2, created=-100)], NOW)
    assert c.kind == "replace" and list(c.frame["quote_id"]) == [2, 1]
    assert b.update([row(1, created=-200), row(2, created=-100)], NOW).kind == "none"
    # quote 1 approved by a trader: two cells of its row change, nothing else
    c = b.update([row(1, created=-200, state="approved", checkers=["alice"]), row(2, created=-100)], NOW)
    assert c.kind == "patch"
    assert c.patches == {"state": [(1, "approved 已批准")], "checkers": [(1, "alice")]}
    # a new quote goes on top; the selected quote 1 moves from row 1 to row 2
    c = b.update([row(1, created=-200, state="approved"), row(2, created=-100), row(7, created=-1)], NOW,
                 selected=1)
    assert c.kind == "replace" and list(c.frame["quote_id"]) == [7, 2, 1] and c.selection == [2]
    assert b.quote_at(2) == 1 and b.index_of(7) == 0 and b.index_of(99) is None


def test_a_tick_patches_only_the_countdowns_that_changed():
    b = v.Blotter()
    b.update([row(1, valid=2.5), row(2, valid=300, created=-5), row(3, state="rejected", created=-9)], NOW)
    assert list(b.frame["expires_in"]) == ["05:00", "–", "00:03"]
    c = b.tick(NOW + dt.timedelta(seconds=0.2))
    assert c.kind == "none"
    c = b.tick(NOW + dt.timedelta(seconds=1))
    assert c.patches == {"expires_in": [(0, "04:59"), (2, "00:02")]}
    assert b.tick(NOW + dt.timedelta(seconds=1.2)).kind == "none"
    c = b.tick(NOW + dt.timedelta(seconds=2.5))
    assert c.patches == {"expires_in": [(0, "04:58"), (2, "expired")]}
    assert b.frame["expires_in"].iat[2] == "expired"


@pytest.mark.parametrize("text,current,want", [
    ("1.05", 1.03, 1.05), ("103%", 1.0, 1.03), ("70%", 0.75, 0.7), ("0.5%", 0.01, 0.005), ("5000万", 5e7, 5e7), ("8,000w", 5e7, 8e7), ("1亿", 5e7, 1e8),
    ("18", 12, 18), ("000852.SH", "000905.SH", "000852.SH"), (" put ", "call", "put"), ("1.5", 12, 1.5)])
def test_a_typed_value_becomes_the_fields_type(text, current, want):
    got = v.parse_field_value("f", text, current)
    assert got == want
    assert type(got) is type(want)


@pytest.mark.parametrize("text", ["", "  ", "abc", "1.0.3", "inf", "1e999"])
def test_a_typed_value_that_is_not_a_number_is_refused_naming_the_field(text):
    with pytest.raises(ValueError, match="^ko_barrier: "):
        v.parse_field_value("ko_barrier", text, 1.03)


def test_the_detail_pane_shows_chat_fields_price_reply_and_what_can_be_done():
    q = row(5, state="pending_approval", maker="alice", checkers=[], needs_second_approval=True,
            fields={"underlying": "000905.SH", "structure": "snowball", "tenor_months": 12, "ko_barrier": 1.0,
                    "ki_barrier": 0.75, "solve_for": "coupon"}, raw_text="500雪球 100/75 1年 报个票息",
            pricing={"value": 5e7, "value_pct": 1.0, "std_err": 41_234.5, "engine": "mc", "vol": 0.22,
                     "rate": 0.02, "spot": 5678.9, "device": "cpu"},
            template="snowball", template_version="3", market_snapshot_id=4,
            reply_preview="@李经理 500雪球 100/75 1年 票息 15.23%，报价5分钟有效",
            history=[{"at": NOW.isoformat(), "from_state": "pending_approval", "to_state": "pending_approval",
                      "by": "alice", "details": {"approval": 1, "maker": "alice"}}])
    d = v.detail_model(q, NOW)
    assert d.header == "Quote 5 · pending 待审批 · 04:00"
    assert d.chat == "500雪球 100/75 1年 报个票息"
    assert [(f, t) for f, _l, t, _v in d.fields][:4] == [("underlying", "000905.SH"), ("structure", "snowball"),
                                                          ("tenor_months", "12"), ("ko_barrier", "1")]
    assert d.price_rows == [("answer 报价", "15.23%"), ("asks for 求解", "coupon"),
                            ("value 估值 (CNY)", "50,000,000.00"), ("value / notional 占名本", "100.000%"),
                            ("std. error 标准误 (CNY)", "41,234"), ("engine 引擎", "mc (cpu)"),
                            ("model vol 波动率", "22.00%"), ("rate 利率", "2.00%"), ("spot 期初价", "5,678.90"),
                            ("template 模板", "snowball (version 3)"), ("market snapshot 行情", "4")]
    assert d.reply_to == "to group c1, @-mentioning wx_li"
    assert d.reply.startswith("@李经理") and d.history == [("10:00:00", "pending_approval", "pending_approval",
                                                            "alice", "approval=1, maker=alice")]
    assert d.next_step == "approve or reject"
    assert "a second trader (not alice) must approve" in d.four_eyes
    # expired: nothing can be done any more, the header says so
    d = v.detail_model({**q, "valid_until": NOW - dt.timedelta(seconds=1)}, NOW)
    assert d.header.endswith("expired") and d.next_step.startswith("expired")
    # approved and sent: the client can accept
    d = v.detail_model({**q, "state": "sent", "needs_second_approval": False}, NOW)
    assert "client accepts" in d.next_step and d.four_eyes == ""
    # booked: the trade its event names
    d = v.detail_model({**q, "state": "booked", "history": [{"to_state": "booked", "by": "bob",
                                                              "details": {"trade_id": "Q-Q5"}}]}, NOW)
    assert d.trade_id == "Q-Q5" and d.header == "Quote 5 · booked 已成交" and d.next_step == ""


def test_the_answer_is_what_the_request_asked_for():
    assert v.price_text(row(1)) == "15.23%"
    assert v.price_text(row(1, solve_for="participation", fair_coupon=None, participation=0.853)) == "85.30%"
    assert v.price_text(row(1, solve_for="price", fair_coupon=None, value_pct=0.0312, price=0.0312)) == "3.12%"
    assert v.price_text(row(1, solve_for="coupon", fair_coupon=None, value_pct=None, error="no market")) == "failed"
    assert v.std_err_text(row(1, std_err=None)) == "–"


def test_chat_and_tables_are_escaped():
    assert v.chat_html("<b>1</b>\n2") == '<div class="q-chat">&lt;b&gt;1&lt;/b&gt;<br>2</div>'
    assert "&lt;x&gt;" in v.table_html([("<x>", 1)], "t")


def test_the_store_comes_from_args_then_the_environment(monkeypatch):
    monkeypatch.setenv("OTCLAB_STORE_URL", "sqlite:////tmp/a.db")
    assert v.store_url(["--store", "sqlite:////tmp/b.db"]) == "sqlite:////tmp/b.db"
    assert v.store_url(["--store=sqlite:////tmp/c.db"]) == "sqlite:////tmp/c.db"
    assert v.store_url([]) == "sqlite:////tmp/a.db"
    monkeypatch.delenv("OTCLAB_STORE_URL")
    monkeypatch.setenv("OTCLAB_DB_URL", "sqlite:////tmp/d.db")
    assert v.store_url([]) == "sqlite:////tmp/d.db"
