"""Suitability by rule, at and around every threshold; questionnaire C-levels; product levels;
the AML rating's factors."""
from __future__ import annotations

import datetime as dt

import pytest

from otclab.kyc import rules as R


def _entity(net, fin, years):
    return {"client_type": "enterprise", "net_assets": net, "financial_assets": fin, "investment_years": years}


def _rule(res, name):
    return next(r for r in res["rules"] if r["name"] == name)


@pytest.mark.parametrize("net,fin,years,pro,otc", [
    (50e6, 20e6, 3, True, True),                       # exactly at the OTC standard
    (50e6 - 1, 20e6, 3, True, False), (50e6, 20e6 - 1, 3, True, False), (50e6, 20e6, 2, True, False),
    (20e6, 10e6, 2, True, False),                      # exactly at the professional test, short of OTC
    (20e6 - 1, 10e6, 2, False, False), (20e6, 10e6 - 1, 2, False, False), (20e6, 10e6, 1, False, False),
])
def test_legal_entity_thresholds(net, fin, years, pro, otc):
    res = R.suitability(_entity(net, fin, years))
    assert (res["professional"], res["eligible_otc"]) == (pro, otc)
    assert "第八条" in _rule(res, "professional_investor")["rule"]
    assert "场外期权业务管理办法" in _rule(res, "otc_counterparty")["rule"]
    failed = [t for t in _rule(res, "otc_counterparty")["tests"] if not t["passed"]]
    assert bool(failed) == (not otc)


@pytest.mark.parametrize("aum,years,size,otc", [(500e6, 2, 50e6, True), (500e6 - 1, 2, 50e6, False),
                                                (500e6, 1, 50e6, False), (500e6, 2, 50e6 - 1, False)])
def test_asset_management_product_thresholds_and_the_premium_cap(aum, years, size, otc):
    res = R.suitability({"client_type": "asset_product", "manager_aum": aum, "manager_years": years,
                         "product_size": size})
    assert res["eligible_otc"] == otc and res["professional"]
    assert res["max_premium"] == pytest.approx(0.30 * size)


def test_a_financial_institution_is_professional_and_eligible():
    res = R.suitability({"client_type": "financial_institution"})
    assert res["professional"] and res["eligible_otc"] and "第八条" in _rule(res, "professional_investor")["rule"]


def test_questionnaire_bands_give_c1_to_c5_and_otc_products_are_r5():
    from otclab.kyc.fields import QUESTIONNAIRE

    top = {q["name"]: q["choices"][-1][0] for q in QUESTIONNAIRE}
    low = {q["name"]: q["choices"][0][0] for q in QUESTIONNAIRE}
    assert R.questionnaire(top)["c_level"] == 5 and R.questionnaire(top)["score"] == 100
    assert R.questionnaire(low)["c_level"] == 1
    assert R.questionnaire({})["score"] == 0
    mid = dict(top, q_objective="preserve", q_loss="lt5", q_derivatives="none")     # 100-18-18-20 = 44
    assert R.questionnaire(mid) == {**R.questionnaire(mid), "score": 44, "c_level": 3}
    for t in ("snowball", "phoenix", "sharkfin", "vanilla", "some_new_structure"):
        assert R.product_level(t) == 5


def test_aml_rating_from_documented_factors():
    clean = {"client_type": "enterprise", "beneficial_owners": ["A,60%"], "established": dt.date(2010, 1, 1),
             "registered_address": "上海市浦东新区", "investment_years": 5}
    assert R.aml_rating(clean, [])["level"] == "low"
    young = {**clean, "established": dt.date.today() - dt.timedelta(days=100), "beneficial_owners": []}
    r = R.aml_rating(young, [])
    assert r["level"] == "medium" and {f["factor"] for f in r["factors"]} == {"young_entity", "no_beneficial_owner"}
    hit = {"decision": "true_match", "topics": ["sanction"]}
    assert R.aml_rating(clean, [hit])["level"] == "high"
    offshore = {**clean, "registered_address": "开曼群岛 George Town"}
    assert "offshore_address" in {f["factor"] for f in R.aml_rating(offshore, [])["factors"]}


def test_review_due_is_a_year_after_the_review():
    assert R.review_due(dt.date(2024, 2, 29)) == dt.date(2025, 2, 28)
