"""Booking, amending, correcting and cancelling trades; every bad booking writes nothing."""
import datetime as dt
import json

import pytest
from sqlalchemy import func, select

from otclab.core.errors import OtcError
from otclab.store import tables as T
from otclab.workflows import trades as tc
from otclab.store.book import cashflows_of, load_book, versions_of
from otclab.templates.loader import get_template

BOOK_DATE = dt.date(2025, 6, 3)


def trade(tid="T1", template="snowball", **kw):
    terms = {"underlying": "000905.SH", "notional": 1e7, "initial_price": 5600.0, "start_date": "2025-06-03",
             "tenor_months": 12, "ko_barrier": 1.03, "ki_barrier": 0.75, "coupon": 0.15, "lockup_months": 3}
    if template == "vanilla":
        terms = {"underlying": "000300.SH", "notional": 5e6, "initial_price": 3900.0, "start_date": "2025-06-03",
                 "tenor_months": 6, "option_type": "call", "strike": 1.0}
    terms.update(kw.pop("terms", {}))
    out = {"trade_id": tid, "template": template, "terms": terms, "direction": "sell",
           "counterparty": {"id": "CP001", "name": "上海晨星私募基金管理有限公司", "uscc": "91310115290019682B"},
           "trade_date": "2025-06-02", "premium": 1e7}
    out.update(kw)
    return out


def n_rows(store, table):
    with store.connect() as c:
        return c.execute(select(func.count()).select_from(table)).scalar()


def test_booking_pins_the_template_version_and_stores_the_record(store):
    recs = tc.book(store, [trade("T1"), trade("T2", "vanilla", direction="buy", premium=250_000.0)],
                   recorded_by="li.na", as_of=BOOK_DATE)
    assert [r.trade_id for r in recs] == ["T1", "T2"]
    assert recs[0].template_version == get_template("snowball").version
    with store.connect() as c:
        book = {t.trade_id: t for t in load_book(c)}
        assert book["T1"].status == "live" and book["T1"].record.terms["coupon"] == 0.15
        assert book["T1"].record.terms["dividend_coupon"] == 0.15        # the template's check filled it
        assert book["T1"].record.counterparty.uscc == "91310115290019682B"
        flows = {r.trade_id: r.amount for r in c.execute(select(T.cashflows))}
    # the buyer pays the premium: the desk receives it when it sells, pays it when it buys
    assert flows == {"T1": 1e7, "T2": -250_000.0}
    assert recs[0].uti == "OTCLAB20250602T1"


@pytest.mark.parametrize("change, field, message", [
    ({"template": "snowbal"}, "template", "unknown template 'snowbal'"),
    ({"template": "payoffs/snowball.ipynb"}, "trade.template", "not a path"),
    ({"template_version": "0123456789ab"}, "template_version", "unknown version '0123456789ab' of template 'snowball'"),
    ({"terms": {"ki_barrier": 1.2}}, "trade.terms.ki_barrier", "must be below ko_barrier"),
    ({"terms": {"ko_barier": 1.0}}, "trade.terms.ko_barier", "did you mean 'ko_barrier'"),
    ({"direction": "long"}, "trade.direction", "must be buy"),
    ({"counterparty": {"id": "CP1", "name": "x", "uscc": "91310115290019682A"}}, "trade.counterparty.uscc",
     "not a valid USCC"),
    ({"trade_date": "2025-06-09"}, "trade.trade_date", "on or before the start date"),
    ({"premium": -1}, "trade.premium", "non-negative"),
    ({"terms": {"start_date": "2024-01-02", "tenor_months": 6}, "trade_date": "2024-01-02"}, "trade.terms.maturity_date",
     "matured on 2024-07-02"),
])
def test_a_bad_booking_names_the_field_and_writes_nothing(store, change, field, message):
    before = n_rows(store, T.trade_versions)
    raw = trade("T9")
    for k, v in change.items():
        raw[k] = {**raw[k], **v} if isinstance(v, dict) and k in ("terms",) else v
    with pytest.raises(OtcError) as e:
        tc.book(store, [trade("T8"), raw], as_of=BOOK_DATE)
    assert message in str(e.value), str(e.value)
    assert e.value.field.endswith(field.split(".")[-1]), e.value.field
    assert n_rows(store, T.trade_versions) == before and n_rows(store, T.trades) == 0


def test_duplicate_trade_ids_are_refused(store):
    tc.book(store, [trade("T1")], as_of=BOOK_DATE)
    with pytest.raises(OtcError, match="already booked"):
        tc.book(store, [trade("T2"), trade("T1")], as_of=BOOK_DATE)
    with pytest.raises(OtcError, match="duplicate trade id 'T3'"):
        tc.book(store, [trade("T3"), trade("T3")], as_of=BOOK_DATE)
    assert n_rows(store, T.trades) == 1


def test_amend_correct_and_cancel_append_versions_and_reverse_flows(store):
    tc.book(store, [trade("T1")], as_of=BOOK_DATE)
    with pytest.raises(OtcError, match="say why"):
        tc.amend(store, "T1", {"terms": {"coupon": 0.16}}, reason="")
    rec = tc.amend(store, "T1", {"terms": {"coupon": 0.16}}, reason="client asked", recorded_by="li.na")
    assert rec.version == 2 and rec.terms["coupon"] == 0.16
    with pytest.raises(OtcError, match="premium and direction change only by a correction"):
        tc.amend(store, "T1", {"premium": 9e6}, reason="typo")
    rec = tc.amend(store, "T1", {"premium": 9.9e6}, reason="typo in premium", correct=True)
    assert rec.version == 3
    with store.connect() as c:
        vs = versions_of(c, "T1")
        flows = cashflows_of(c, "T1")
        (t,) = load_book(c, trade_ids=["T1"])
    assert [v.action for v in vs] == ["new", "amend", "correct"]
    assert t.base_version == 3 and t.record.premium == 9.9e6
    assert [(f.type, f.amount) for f in flows] == [("premium", 1e7), ("reversal", -1e7), ("premium", 9.9e6)]
    tc.cancel(store, "T1", reason="booked twice")
    with store.connect() as c:
        (t,) = load_book(c, trade_ids=["T1"])
        assert t.status == "cancelled"
        assert sum(f.amount for f in cashflows_of(c, "T1")) == pytest.approx(0.0)
    with pytest.raises(OtcError, match="already cancelled"):
        tc.cancel(store, "T1", reason="again")


def test_a_trade_keeps_pricing_with_its_pinned_version_after_the_notebook_changes(store, tmp_path, monkeypatch):
    src = json.loads((get_template("vanilla").path).read_text(encoding="utf-8"))
    folder = tmp_path / "payoffs"
    folder.mkdir()
    (folder / "vanilla.ipynb").write_text(json.dumps(src), encoding="utf-8")
    monkeypatch.setenv("OTCLAB_PAYOFFS", str(folder))
    old = get_template("vanilla").version
    tc.book(store, [trade("V1", "vanilla")], as_of=BOOK_DATE)
    # the quant edits the payoff cell: a new version; the booked trade keeps the old one
    for cell in src["cells"]:
        if "payoff" in cell["metadata"].get("tags", []):
            cell["source"] = "".join(cell["source"]) + "\n# reviewed 2025-07-01\n"
    (folder / "vanilla.ipynb").write_text(json.dumps(src), encoding="utf-8")
    import os
    os.utime(folder / "vanilla.ipynb", ns=(1, 10**18))
    assert get_template("vanilla").version != old
    with store.connect() as c:
        (t,) = load_book(c, trade_ids=["V1"])
    assert t.record.template_version == old and t.template.version == old
    tc.book(store, [trade("V2", "vanilla", template_version=old)], as_of=BOOK_DATE)   # the old version is known


def test_a_foreign_client_is_identified_by_its_lei(store):
    raw = trade("F1", counterparty={"id": "CP900", "name": "Example Fund SPC", "lei": "5493001KJTIIGC8Y1R12"})
    tc.book(store, [raw], as_of=BOOK_DATE)
    with store.connect() as c:
        (t,) = load_book(c, trade_ids=["F1"])
    assert t.record.counterparty.lei == "5493001KJTIIGC8Y1R12" and t.record.counterparty.uscc is None
    with pytest.raises(OtcError, match="not a valid LEI") as e:
        tc.book(store, [trade("F2", counterparty={"id": "CP901", "name": "X", "lei": "5493001KJTIIGC8Y1R13"})],
                as_of=BOOK_DATE)
    assert e.value.field == "trade.counterparty.lei"
