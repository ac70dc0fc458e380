"""As-you-type checks of the client form and the form as data."""
from __future__ import annotations

import datetime as dt

import pytest
from kyc_support import make_ric, make_uscc

from otclab.kyc.fields import FORM, QUESTIONNAIRE, check_field, parse_amount, parse_value, required_documents


def test_a_wrong_uscc_check_character_is_an_error_naming_the_right_one():
    good = make_uscc()
    assert check_field("uscc", good).level == "ok"
    wrong = good[:-1] + ("A" if good[-1] != "A" else "B")
    c = check_field("uscc", wrong)
    assert c.level == "error" and f"末位应为 {good[-1]}" in c.message and "check character" in c.message
    assert check_field("uscc", good[:-2]).level == "error" and "18" in check_field("uscc", good[:-2]).message


def test_resident_id_check_digit_and_a_recoded_county_code_is_a_warning_not_a_refusal():
    good = make_ric("11010519800101001")
    assert check_field("legal_rep_id", good).level == "ok"
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    assert check_field("legal_rep_id", bad).level == "error"
    # 110104 (北京宣武区) was merged into 西城区 in 2010: a person born after has no valid county
    recoded = make_ric("11010420150101001")
    c = check_field("legal_rep_id", recoded)
    assert c.level == "warning" and "110104" in c.message


@pytest.mark.parametrize("text,value", [("50,000,000", 5e7), ("5000万", 5e7), ("0.5亿", 5e7), ("50m", 5e7),
                                        (20_000_000, 2e7), ("¥1,234.5元", 1234.5)])
def test_amounts_are_read_as_typed(text, value):
    assert parse_amount(text) == pytest.approx(value)
    assert check_field("net_assets", text).level in ("ok", "warning")


def test_bad_amounts_dates_and_years_are_errors_with_the_reason():
    assert check_field("net_assets", "lots").level == "error"
    assert check_field("net_assets", "-5").level == "error"
    assert check_field("net_assets", "5000").level == "warning"          # 5000 元: a unit slip?
    assert check_field("established", "2031-02-30").level == "error"
    future = (dt.date.today() + dt.timedelta(days=3)).isoformat()
    assert check_field("established", future).level == "error"
    past = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    c = check_field("license_valid_until", past)
    assert c.level == "error" and "过期" in c.message
    assert check_field("investment_years", "3.5").level == "error"
    assert parse_value("investment_years", "3年") == 3
    assert check_field("name", "").level == "error" and "必填" in check_field("name", "").message
    assert check_field("beneficial_owners", "张三,70%\n李四,40%").level == "error"
    assert check_field("client_type", "hedge").level == "error"
    assert check_field("nonsense", "x").level == "error"


def test_the_form_is_data_with_labels_kinds_and_the_questionnaire_scores():
    steps = [s["name"] for s in FORM]
    assert steps == ["institution", "financials", "questionnaire", "documents"]
    for s in FORM:
        for f in s["fields"]:
            assert f["label_zh"] and f["label_en"] and f["kind"] in {"text", "amount", "date", "choice", "int", "list"}
            assert f["kind"] != "choice" or f["choices"]
    assert sum(max(c[2] for c in q["choices"]) for q in QUESTIONNAIRE) == 100
    kinds = [d["kind"] for d in required_documents("enterprise")]
    assert kinds == ["business_license", "legal_rep_id", "authorisation", "financial_statements"]
    labels = [d["label_zh"] for d in required_documents("asset_product")]
    assert labels[:4] == ["营业执照", "法定代表人身份证件", "授权书", "财务报表"] and labels[4].startswith("产品文件")
