"""Trade-repository reports: identifiers, record contents, JSON schema and FpML validation."""
from __future__ import annotations

import copy
import json
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from otclab.esign.errors import ReportError
from otclab.esign.evidence import EvidenceLog
from otclab.esign.report import build_report, export_report, to_fpml, validate_fpml, validate_json
from otclab.esign.report.fpml import FPML_NS
from otclab.esign.report.identifiers import USCC_ALPHABET, lei_check_digits, uscc_check_char, validate_lei, validate_uscc

DEALER = {"name": "示例证券股份有限公司", "uscc": "91350100M000100Y43", "lei": "HWUPKR0MPOU8FGXBT394"}
CLIENT = {"name": "示例私募基金管理有限公司", "uscc": "91110000802100433B"}


def booking(template="vanilla", **ts):
    base = {"template": template, "underlying": "000905.SH", "currency": "CNY", "notional": 10_000_000,
            "initial_price": 6000.0, "start_date": "2026-11-20", "maturity_date": "2027-11-19", "strike": 1.0}
    base.update(ts)
    return {"uti": "CN0000000000ABC123", "trade_date": "2026-11-20", "term_sheet": base,
            "parties": {"dealer": dict(DEALER), "client": dict(CLIENT)},
            "premium": {"amount": 456_789.125, "currency": "CNY", "payment_date": "2026-11-23"},
            "event": {"type": "new", "date": "2026-11-20"}}


def test_known_identifiers_pass():
    for code in ("91350100M000100Y43", "91110000802100433B"):
        assert validate_uscc(code) == code
    for lei in ("HWUPKR0MPOU8FGXBT394", "7LTWFZYICNSX8D621K86", "5493001KJTIIGC8Y1R12"):
        assert validate_lei(lei) == lei


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=USCC_ALPHABET, min_size=17, max_size=17), st.integers(0, 17), st.sampled_from(USCC_ALPHABET))
def test_uscc_check_character_catches_any_single_substitution(body, pos, ch):
    code = body + uscc_check_char(body)
    assert validate_uscc(code) == code
    bad = code[:pos] + ch + code[pos + 1:]
    if bad != code:
        with pytest.raises(ReportError, match="check character"):
            validate_uscc(bad)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=18, max_size=18), st.integers(0, 19),
       st.sampled_from("0123456789"))
def test_lei_check_digits_catch_any_single_digit_substitution(body, pos, ch):
    """ISO 7064 MOD 97-10 detects every single substitution of a digit by another digit."""
    code = body + lei_check_digits(body)
    assert validate_lei(code) == code
    bad = code[:pos] + ch + code[pos + 1:]
    if bad != code and code[pos].isdigit():
        with pytest.raises(ReportError, match="check digits"):
            validate_lei(bad)


def test_bad_identifier_messages():
    with pytest.raises(ReportError, match="18 characters"):
        validate_uscc("9135")
    with pytest.raises(ReportError, match="without I, O, S, V, Z"):
        validate_uscc("91350100M000100YO3")
    with pytest.raises(ReportError, match="check character '4', expected '3'"):
        validate_uscc("91350100M000100Y44")
    with pytest.raises(ReportError, match="ISO 17442"):
        validate_lei("HWUPKR0MPOU8FGXBT395")


def test_vanilla_record_contents():
    rec = build_report(booking(option_type="put", strike=0.95))
    assert rec["uti"] == "CN0000000000ABC123"
    assert rec["product"] == {"id": "OTCLAB.VANILLA", "template": "vanilla",
                              "taxonomy": "Equity:Option:PriceReturnBasicPerformance:SingleIndex", "fpml_product": "equityOption"}
    assert rec["strike"] == {"fraction": 0.95, "level": 5700.0}
    assert rec["notional"] == {"amount": 10_000_000.0, "currency": "CNY"}
    assert rec["premium"]["amount"] == 456789.13 and rec["premium"]["payer"] == "client"
    assert [p["role"] for p in rec["parties"]] == ["dealer", "client"] and rec["parties"][0]["lei"] == DEALER["lei"]
    assert rec["trade_date"] == rec["effective_date"] == "2026-11-20" and rec["maturity_date"] == "2027-11-19"
    validate_json(rec)


def test_tenor_months_rolls_to_sse_trading_day():
    b = booking()
    del b["term_sheet"]["maturity_date"]
    b["term_sheet"]["start_date"] = "2025-09-01"
    b["trade_date"] = b["event"]["date"] = "2025-09-01"
    b["term_sheet"]["tenor_months"] = 1  # 2025-10-01 is National Day: SSE closed until 2025-10-08
    assert build_report(b)["maturity_date"] == "2025-10-09"


def test_barrier_option_fpml_has_knock_feature():
    out = export_report(booking("barrier", barrier=1.2, barrier_type="up_and_out"))
    root = ET.fromstring(out["fpml"])
    ns = {"f": FPML_NS}
    trig = root.find("f:trade/f:equityOption/f:feature/f:knock/f:knockOut/f:trigger", ns)
    assert trig.find("f:level", ns).text == "7200.0" and trig.find("f:triggerType", ns).text == "EqualOrGreater"
    assert root.find("f:trade/f:equityOption/f:strike/f:strikePrice", ns).text == "6000.0"
    assert root.find("f:trade/f:equityOption/f:equityPremium/f:paymentAmount/f:amount", ns).text == "456789.13"
    assert root.find("f:trade/f:tradeHeader/f:partyTradeIdentifier/f:tradeId", ns).text == "CN0000000000ABC123"
    assert validate_fpml(out["fpml"]) == {"product": "equityOption", "parties": ["client", "dealer"], "uti": "CN0000000000ABC123"}
    assert json.loads(out["json"]) == out["record"]


@pytest.mark.parametrize("template,extra", [
    ("snowball", {"ko_barrier": 1.03, "ki_barrier": 0.75, "coupon": 0.15, "strike": None, "step_down": [0.005, 12]}),
    ("phoenix", {"ko_barrier": 1.0, "ki_barrier": 0.7, "coupon": 0.12, "coupon_barrier": 0.8}),
    ("sharkfin", {"barrier": 1.15, "coupon": 0.02}),
    ("digital", {"coupon": 0.05}),
    ("asian", {}),
])
def test_exotics_become_generic_products_carrying_the_term_sheet(template, extra):
    out = export_report(booking(template, **extra))
    assert out["record"]["product"]["fpml_product"] == "genericProduct"
    root = ET.fromstring(out["fpml"])
    fields = {f.get("name"): f.text for f in root.iter("{urn:otclab:termsheet:1}field")}
    assert fields["template"] == template and fields["underlying"] == "000905.SH"
    if template == "snowball":
        assert fields["ko_barrier"] == "1.03" and json.loads(fields["step_down"]) == [0.005, 12]
    assert validate_fpml(out["fpml"])["product"] == "genericProduct"


@pytest.mark.parametrize("change,field,message", [
    ({"template": "rainbow"}, "term_sheet.template", "unknown template"),
    ({"underlying": "CSI500"}, "term_sheet.underlying", "exchange code"),
    ({"notional": -1}, "term_sheet.notional", "positive"),
    ({"maturity_date": "2026-01-01"}, "term_sheet.maturity_date", "after start"),
    ({"strike": 7}, "term_sheet.strike", r"\(0, 5\]"),
    ({"template": "barrier", "barrier": 0.9, "barrier_type": "up_and_out"}, "term_sheet.barrier", "above"),
    ({"template": "barrier", "barrier": 1.2, "barrier_type": "sideways"}, "term_sheet.barrier_type", "one of"),
    ({"template": "snowball", "ko_barrier": 0.7, "ki_barrier": 0.8}, "term_sheet.ki_barrier", "below ko_barrier"),
])
def test_bad_term_sheets_name_the_field(change, field, message):
    with pytest.raises(ReportError, match=message) as exc:
        build_report(booking(**change))
    assert exc.value.field == field


def test_bad_booking_fields():
    b = booking()
    b["parties"]["client"] = {"name": "无代码公司"}
    with pytest.raises(ReportError, match="USCC .* or an LEI"):
        build_report(b)
    b = booking()
    b["uti"] = "bad uti"
    with pytest.raises(ReportError, match="ISO 23897"):
        build_report(b)
    b = booking()
    b["event"] = {"type": "cancelled"}
    with pytest.raises(ReportError) as exc:
        build_report(b)
    assert exc.value.field == "event.type"


def test_json_schema_rejects_altered_records():
    rec = build_report(booking())
    for path, value in ((("notional", "currency"), "cny"), (("uti",), "x y"), (("trade_date",), "20261120"),
                        (("parties",), []), (("product", "fpml_product"), "swap")):
        bad = copy.deepcopy(rec)
        target = bad
        for k in path[:-1]:
            target = target[k]
        target[path[-1]] = value
        with pytest.raises(ReportError, match="fails its schema"):
            validate_json(bad)
    bad = copy.deepcopy(rec)
    bad["unexpected"] = 1
    with pytest.raises(ReportError, match="Additional properties"):
        validate_json(bad)


def test_fpml_validation_catches_structural_faults():
    good = to_fpml(build_report(booking()))
    validate_fpml(good)
    cases = [
        (good.replace(b"<tradeDate>2026-11-20</tradeDate>", b"<tradeDate>20/11/2026</tradeDate>"), "YYYY-MM-DD"),
        (good.replace(b"<amount>10000000.00</amount>", b"<amount>1e7</amount>"), "2 places"),
        (good.replace(b'href="client"', b'href="nobody"', 1), "undeclared party"),
        (good.replace(FPML_NS.encode(), b"http://example.com/not-fpml"), "nonpublicExecutionReport"),
        (good.replace(b"<strikePrice>6000.0</strikePrice>", b""), "strike/strikePrice"),
        (good.replace(b"HWUPKR0MPOU8FGXBT394", b"HWUPKR0MPOU8FGXBT395"), "ISO 17442"),
        (good[:-30], "well-formed"),
    ]
    for xml, message in cases:
        with pytest.raises(ReportError, match=message):
            validate_fpml(xml)


def test_export_appends_submission_to_evidence(tmp_path):
    with EvidenceLog(tmp_path / "ev.sqlite") as log:
        out = export_report(booking(), evidence=log)
        assert out["receipt"]["index"] == 0
        kind, data, _ = log.entry(0)
        assert kind == "report.submitted" and json.loads(data)["uti"] == "CN0000000000ABC123"
