"""Trade-repository reports: identifiers, record contents from the trade record, JSON schema and FpML
validation, the command line."""
from __future__ import annotations

import copy
import json
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from otclab.cli.main import main
from otclab.core.errors import OtcError
from otclab.esign.errors import ReportError
from otclab.esign.evidence import EvidenceLog
from otclab.esign.report import build_report, export_report, to_fpml, validate_fpml, validate_json
from otclab.esign.report.fpml import FPML_NS, KNOCKS
from otclab.esign.report.identifiers import USCC_ALPHABET, lei_check_digits, uscc_check_char, validate_lei, validate_uscc
from otclab.store.record import parse_record
from otclab.templates.loader import get_template

DEALER = {"name": "示例证券股份有限公司", "uscc": "91350100M000100Y43", "lei": "HWUPKR0MPOU8FGXBT394"}
CLIENT = {"id": "CP001", "name": "示例私募基金管理有限公司", "uscc": "91110000802100433B"}
OTC = "{urn:otclab:termsheet:1}"


def raw_trade(template="vanilla", direction="sell", **terms):
    """A trade in the record's JSON form (what `otclab trades show ID --json` prints under "trade");
    a term given as None is left out."""
    base = {"underlying": "000905.SH", "currency": "CNY", "notional": 10_000_000, "initial_price": 6000.0,
            "start_date": "2026-11-20", "maturity_date": "2027-11-19", "strike": 1.0}
    base.update(terms)
    return {"trade_id": "HX-OTC-0001", "uti": "CN0000000000ABC123", "template": template,
            "terms": {k: v for k, v in base.items() if v is not None}, "direction": direction,
            "counterparty": dict(CLIENT), "trade_date": base["start_date"], "premium": 456_789.125,
            "premium_date": "2026-11-23"}


def trade(template="vanilla", direction="sell", **terms):
    return parse_record(raw_trade(template, direction, **terms), lambda name, version: get_template(name))


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
    t = trade(option_type="put", strike=0.95)
    rec = build_report(t, DEALER)
    assert rec["uti"] == "CN0000000000ABC123" and rec["trade_id"] == "HX-OTC-0001"
    assert rec["product"] == {"id": "OTCLAB.VANILLA", "template": "vanilla", "template_version": t.template_version,
                              "taxonomy": "Equity:Option:PriceReturnBasicPerformance:SingleIndex", "fpml_product": "equityOption"}
    assert rec["option_type"] == "put" and rec["strike"] == {"fraction": 0.95, "level": 5700.0}
    assert rec["notional"] == {"amount": 10_000_000.0, "currency": "CNY"}
    assert rec["premium"] == {"amount": 456789.13, "currency": "CNY", "payment_date": "2026-11-23",
                              "payer": "client", "receiver": "dealer"}  # half-up to the cent
    assert rec["parties"] == [{"role": "dealer", **DEALER}, {"role": "client", "name": CLIENT["name"], "uscc": CLIENT["uscc"]}]
    assert (rec["buyer"], rec["seller"]) == ("client", "dealer")  # the desk sold: the client holds the option
    assert rec["trade_date"] == rec["effective_date"] == "2026-11-20" and rec["maturity_date"] == "2027-11-19"
    assert rec["lifecycle_event"] == {"type": "new", "date": "2026-11-20"}
    assert rec["terms"] == t.terms.to_json()
    validate_json(rec)


def test_buyer_and_premium_payer_follow_the_direction():
    rec = build_report(trade(direction="buy", option_type="call"), DEALER, {"type": "exercise", "date": "2027-11-19"})
    assert (rec["buyer"], rec["seller"]) == ("dealer", "client")
    assert (rec["premium"]["payer"], rec["premium"]["receiver"]) == ("dealer", "client")
    assert rec["lifecycle_event"] == {"type": "exercise", "date": "2027-11-19"}
    root = ET.fromstring(to_fpml(rec))
    ns = {"f": FPML_NS}
    assert root.find("f:trade/f:equityOption/f:buyerPartyReference", ns).get("href") == "dealer"
    assert root.find("f:trade/f:equityOption/f:equityPremium/f:payerPartyReference", ns).get("href") == "dealer"


def test_tenor_months_rolls_to_sse_trading_day():
    # 2025-10-01 is National Day: SSE closed until 2025-10-08
    t = trade(option_type="call", maturity_date=None, tenor_months=1, start_date="2025-09-01")
    assert build_report(t, DEALER)["maturity_date"] == "2025-10-09"


@pytest.mark.parametrize("barrier_type,level,kind,trigger", [
    ("up_out", 1.2, "knockOut", "EqualOrGreater"), ("up_in", 1.2, "knockIn", "EqualOrGreater"),
    ("down_out", 0.8, "knockOut", "EqualOrLess"), ("down_in", 0.8, "knockIn", "EqualOrLess"),
])
def test_barrier_option_fpml_has_knock_feature(barrier_type, level, kind, trigger):
    out = export_report(trade("barrier", option_type="call", barrier=level, barrier_type=barrier_type), DEALER)
    assert out["record"]["barrier_type"] == barrier_type  # the record keeps the template's names
    root = ET.fromstring(out["fpml"])
    ns = {"f": FPML_NS}
    trig = root.find(f"f:trade/f:equityOption/f:feature/f:knock/f:{kind}/f:trigger", ns)
    assert trig.find("f:level", ns).text == f"{level * 6000:.1f}" and trig.find("f:triggerType", ns).text == trigger
    assert root.find("f:trade/f:equityOption/f:strike/f:strikePrice", ns).text == "6000.0"
    assert root.find("f:trade/f:equityOption/f:equityPremium/f:paymentAmount/f:amount", ns).text == "456789.13"
    ids = root.findall("f:trade/f:tradeHeader/f:partyTradeIdentifier/f:tradeId", ns)
    assert [i.text for i in ids] == ["CN0000000000ABC123", "HX-OTC-0001"]
    assert validate_fpml(out["fpml"]) == {"product": "equityOption", "parties": ["client", "dealer"], "uti": "CN0000000000ABC123"}
    assert json.loads(out["json"]) == out["record"]
    assert set(KNOCKS) == set(get_template("barrier").schema.fields["barrier_type"].choices)


@pytest.mark.parametrize("template,extra", [
    ("snowball", {"ko_barrier": 1.03, "ki_barrier": 0.75, "coupon": 0.15, "strike": None, "ko_step_down": 0.005,
                  "ko_coupons": [0.15] * 11 + [0.2]}),
    ("phoenix", {"ko_barrier": 1.0, "ki_barrier": 0.7, "coupon": 0.12, "coupon_barrier": 0.8, "strike": None}),
    ("sharkfin", {"option_type": "call", "barrier": 1.15, "rebate": 0.02, "participation": 0.8}),
    ("digital", {"option_type": "call", "payout": 0.05}),
    ("asian", {"option_type": "put"}),
    ("double_sharkfin", {"strike": None, "barrier_low": 0.85, "barrier_high": 1.15}),
    ("vanilla", {"option_type": "call", "exercise": "american"}),
])
def test_other_trades_become_generic_products_carrying_the_terms(template, extra):
    t = trade(template, **extra)
    out = export_report(t, DEALER)
    rec = out["record"]
    assert rec["product"]["fpml_product"] == "genericProduct" and rec["option_type"] is None
    root = ET.fromstring(out["fpml"])
    sheet = root.find(f"{{{FPML_NS}}}trade/{{{FPML_NS}}}genericProduct/{OTC}termSheet")
    assert (sheet.get("template"), sheet.get("templateVersion")) == (template, t.template_version)
    fields = {f.get("name"): f.text for f in sheet.iter(f"{OTC}field")}
    assert set(fields) == set(t.terms) and fields["underlying"] == "000905.SH"
    barriers = {b["name"]: b["fraction"] for b in rec["barriers"]}
    if template == "snowball":
        assert fields["ko_barrier"] == "1.03" and json.loads(fields["ko_coupons"])[-1] == 0.2
        assert barriers == {"ko_barrier": 1.03, "ki_barrier": 0.75} and rec["coupon"] == 0.15
    if template == "phoenix":
        assert barriers == {"ko_barrier": 1.0, "ki_barrier": 0.7, "coupon_barrier": 0.8}
    if template == "double_sharkfin":
        assert barriers == {"barrier_low": 0.85, "barrier_high": 1.15}
    assert validate_fpml(out["fpml"])["product"] == "genericProduct"
    validate_json(rec)


@pytest.mark.parametrize("change,field,message", [
    ({"template": "rainbow"}, "template", "unknown template"),
    ({"terms": {"underlying": "CSI500"}}, "trade.terms.underlying", "exchange code"),
    ({"terms": {"notional": -1}}, "trade.terms.notional", "> 0"),
    ({"terms": {"maturity_date": "2026-01-01"}}, "trade.terms.maturity_date", "after start_date"),
    ({"terms": {"strike": 12}}, "trade.terms.strike", "< 10"),
    ({"template": "barrier", "terms": {"barrier": 1.2, "barrier_type": "up_and_out"}}, "trade.terms.barrier_type",
     "one of up_out, up_in, down_out, down_in"),
    ({"template": "snowball", "terms": {"strike": None, "option_type": None, "ko_barrier": 0.7, "ki_barrier": 0.8,
                                        "coupon": 0.1}},
     "trade.terms.ki_barrier", "below ko_barrier"),
    ({"template": "barrier", "terms": {"barrier": 0.9, "barrier_type": "up_out"}}, "trade.terms.barrier",
     "above the initial price"),
    ({"template": "barrier", "terms": {"barrier": 1.1, "barrier_type": "down_in"}}, "trade.terms.barrier",
     "below the initial price"),
    ({"uti": "bad uti"}, "trade.uti", "ISO 23897"),
    ({"counterparty": {"id": "CP001", "name": "甲", "uscc": "91110000802100433C"}}, "trade.counterparty.uscc", "USCC"),
])
def test_bad_trades_name_the_field(change, field, message):
    """The trade is validated once, as the trade record (its template's schema and checks)."""
    raw = raw_trade(option_type="call")
    terms = dict(raw["terms"], **change.pop("terms", {}))
    raw.update(change, terms={k: v for k, v in terms.items() if v is not None})
    with pytest.raises(OtcError, match=message) as exc:
        parse_record(raw, lambda name, version: get_template(name))
    assert exc.value.field == field


def test_bad_report_inputs_name_the_field():
    t = trade(option_type="call")
    cases = [
        (lambda: build_report(t, {"name": "无代码证券"}), "dealer.uscc", "USCC .* or an LEI"),
        (lambda: build_report(t, dict(DEALER, lei="HWUPKR0MPOU8FGXBT395")), "dealer.lei", "ISO 17442"),
        (lambda: build_report(t, dict(DEALER, uscc="91350100M000100Y44")), "dealer.uscc", "check character"),
        (lambda: build_report(t, dict(DEALER, name=" ")), "dealer.name", "legal name"),
        (lambda: build_report(t, dict(DEALER, bic="X")), "dealer", "unknown field"),
        (lambda: build_report(t, "dealer"), "dealer", "object"),
        (lambda: build_report(t.with_changes(counterparty=t.counterparty.__class__("CP9", "无代码公司")), DEALER),
         "trade.counterparty.uscc", "USCC"),
        (lambda: build_report(t, DEALER, {"type": "cancelled"}), "event.type", "one of new"),
        (lambda: build_report(t, DEALER, {"type": "amend", "date": "2026-11-19"}), "event.date", "before the trade date"),
        (lambda: build_report(t, DEALER, {"type": "amend", "date": "19/11/2026"}), "event.date", "YYYY-MM-DD"),
        (lambda: build_report(t, DEALER, {"type": "amend", "when": "2026-11-21"}), "event", "unknown field"),
    ]
    for call, field, message in cases:
        with pytest.raises(ReportError, match=message) as exc:
            call()
        assert exc.value.field == field, (field, exc.value)


def test_json_schema_rejects_altered_records():
    rec = build_report(trade(option_type="call"), DEALER)
    for path, value in ((("notional", "currency"), "cny"), (("uti",), "x y"), (("trade_date",), "20261120"),
                        (("parties",), []), (("product", "fpml_product"), "swap"), (("barrier_type",), "up_and_out"),
                        (("product", "template_version"), "latest")):
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
    good = to_fpml(build_report(trade(option_type="call"), DEALER))
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
    t = trade(option_type="call")
    with EvidenceLog(tmp_path / "ev.sqlite") as log:
        out = export_report(t, DEALER, evidence=log)
        assert out["receipt"]["index"] == 0
        kind, data, _ = log.entry(0)
        entry = json.loads(data)
        assert kind == "report.submitted" and entry["uti"] == "CN0000000000ABC123"
        assert entry["trade_id"] == "HX-OTC-0001" and entry["template_version"] == t.template_version


def test_command_line_takes_the_trade_record_and_the_dealer(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OTCLAB_EVIDENCE_URL", str(tmp_path / "evidence.sqlite"))
    raw = raw_trade("snowball", strike=None, maturity_date=None, tenor_months=24, ko_barrier=1.03, ki_barrier=0.75,
                    coupon=0.15)
    (tmp_path / "trade.json").write_text(json.dumps({"trade": raw, "events": []}, ensure_ascii=False))
    (tmp_path / "dealer.json").write_text(json.dumps({"name": "示例证券", "lei": "5493001KJTIIGC8Y1R12"}))
    assert main(["report", "export", "trade.json", "--dealer", "dealer.json", "--out-dir", "rep", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["product"]["fpml_product"] == "genericProduct" and res["trade_id"] == "HX-OTC-0001"
    assert res["evidence"]["index"] >= 0
    assert (tmp_path / "rep" / "CN0000000000ABC123-new.fpml.xml").read_bytes().startswith(b"<?xml")
    assert main(["report", "export", "trade.json", "--dealer", "dealer.json", "--event", "knock_in",
                 "--event-date", "2027-03-01", "--out-dir", "rep"]) == 0
    assert "validated" in capsys.readouterr().out
    assert (tmp_path / "rep" / "CN0000000000ABC123-knock_in.json").exists()
    for trade_json, dealer_json, field in [
        (raw, {"name": "示例证券", "lei": "5493001KJTIIGC8Y1R13"}, "dealer.lei"),
        (dict(raw, terms={**raw["terms"], "ko_barrier": "103%"}), {"name": "示例证券", "uscc": DEALER["uscc"]},
         "trade.terms.ko_barrier"),
        (dict(raw, template="rainbow"), DEALER, "trade.template"),
    ]:
        (tmp_path / "t.json").write_text(json.dumps(trade_json, ensure_ascii=False))
        (tmp_path / "d.json").write_text(json.dumps(dealer_json, ensure_ascii=False))
        assert main(["report", "export", "t.json", "--dealer", "d.json"]) == 2
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and field in err
    assert main(["report", "export", "trade.json", "--dealer", "dealer.json", "--event", "cancelled"]) == 2
    assert "event.type" in capsys.readouterr().err
    (tmp_path / "bad.json").write_text("{not json")
    assert main(["report", "export", "bad.json", "--dealer", "dealer.json"]) == 2
    assert "trade" in capsys.readouterr().err


def test_command_help_says_what_to_give(capsys):
    assert main(["report", "export", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "trade record" in out and "--dealer" in out and "trades show" in out


def test_a_client_without_a_uscc_is_reported_by_its_lei():
    t = trade(option_type="call")
    t = t.with_changes(counterparty=t.counterparty.__class__("CP900", "Example Fund SPC", None, "5493001KJTIIGC8Y1R12"))
    rec = build_report(t, DEALER)
    client = next(p for p in rec["parties"] if p["role"] == "client")
    assert client == {"role": "client", "name": "Example Fund SPC", "lei": "5493001KJTIIGC8Y1R12"}
    validate_json(rec)
