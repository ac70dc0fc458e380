"""Suitability, the questionnaire's C-level, product risk levels and the AML rating, from the one
rules file (``rules.toml`` beside this module; ``OTCLAB_KYC_RULES`` names another one).

Every result names the rule it applied (``rule``) and each threshold test (``tests``: what was
compared, the value, the threshold, passed), so a reviewer and the report can cite them, and
carries ``rules_version`` (the SHA-256 of the rules file) so it can be reproduced.
"""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
import os
import tomllib
from pathlib import Path

from ..core.errors import OtcError
from .fields import MAX_SCORE, QUESTIONNAIRE, parse_owner

RULES_FILE = Path(__file__).with_name("rules.toml")


def read_toml(path: str, what: str, field: str) -> tuple[dict, str]:
    """(the TOML file ``path`` parsed, the SHA-256 of its bytes); an unreadable or invalid file is
    an ``OtcError`` naming ``what`` it is and the setting ``field`` that points to it."""
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise OtcError(f"cannot read the {what} {path}: {e.strerror}", field) from None
    try:
        return tomllib.loads(data.decode("utf-8")), hashlib.sha256(data).hexdigest()
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise OtcError(f"{path}: not valid TOML: {e}", field) from None


@functools.lru_cache(maxsize=4)
def _load(path: str) -> tuple[dict, str]:
    return read_toml(path, "KYC rules file", "OTCLAB_KYC_RULES")


def rules() -> dict:
    """The rules in force (parsed ``rules.toml``)."""
    return _load(str(os.environ.get("OTCLAB_KYC_RULES") or RULES_FILE))[0]


def rules_version() -> str:
    return _load(str(os.environ.get("OTCLAB_KYC_RULES") or RULES_FILE))[1]


def _test(what: str, value, threshold, op: str = ">=") -> dict:
    passed = value is not None and (value >= threshold if op == ">=" else value <= threshold)
    return {"test": what, "value": value, "threshold": threshold, "op": op, "passed": bool(passed)}


def suitability(values: dict) -> dict:
    """Professional-investor classification and the OTC-option counterparty standard for a case's
    typed values (``fields.parse_value``). Returns {professional, eligible_otc, client_type,
    rules: [{name, rule, tests, passed}], max_premium (asset product: 30% of the product, CNY),
    rules_version}."""
    r = rules()
    ct = values.get("client_type")
    out = []
    pi = r["professional_investor"]
    if ct == "financial_institution" and pi.get("financial_institution_is_professional"):
        out.append({"name": "professional_investor", "rule": pi["rule"] + "第（一）项", "passed": True,
                    "tests": [{"test": "经批准设立的金融机构 / licensed financial institution", "value": True,
                               "threshold": True, "op": "==", "passed": True}]})
    elif ct == "asset_product":
        # a product managed by a licensed manager is a professional investor (art. 8(2)); its
        # OTC eligibility is the manager/product test below
        out.append({"name": "professional_investor", "rule": pi["rule"] + "第（二）项", "passed": True,
                    "tests": [{"test": "依法备案的资产管理产品 / registered asset-management product", "value": True,
                               "threshold": True, "op": "==", "passed": True}]})
    else:
        tests = [_test("最近一年末净资产 / net assets (CNY)", values.get("net_assets"), pi["net_assets_min"]),
                 _test("最近一年末金融资产 / financial assets (CNY)", values.get("financial_assets"), pi["financial_assets_min"]),
                 _test("投资经历（年）/ investment experience (years)", values.get("investment_years"), pi["experience_years_min"])]
        out.append({"name": "professional_investor", "rule": pi["rule"] + "第（四）项", "tests": tests,
                    "passed": all(t["passed"] for t in tests)})
    oc = r["otc_counterparty"]
    max_premium = None
    if ct == "financial_institution":
        out.append({"name": "otc_counterparty", "rule": oc["financial_institution"]["rule"], "passed": True,
                    "tests": [{"test": "金融机构 / financial institution", "value": True, "threshold": True, "op": "==",
                               "passed": True}]})
    elif ct == "asset_product":
        a = oc["asset_product"]
        tests = [_test("管理人管理资产规模 / manager AUM (CNY)", values.get("manager_aum"), a["manager_aum_min"]),
                 _test("管理人投资经历（年）/ manager experience (years)", values.get("manager_years"), a["manager_years_min"]),
                 _test("产品规模 / product assets (CNY)", values.get("product_size"), a["product_size_min"])]
        out.append({"name": "otc_counterparty", "rule": a["rule"], "tests": tests, "passed": all(t["passed"] for t in tests)})
        if values.get("product_size"):
            max_premium = a["premium_margin_max_fraction"] * values["product_size"]
    else:
        e = oc["legal_entity"]
        tests = [_test("最近一年末净资产 / net assets (CNY)", values.get("net_assets"), e["net_assets_min"]),
                 _test("最近一年末金融资产 / financial assets (CNY)", values.get("financial_assets"), e["financial_assets_min"]),
                 _test("投资经历（年）/ investment experience (years)", values.get("investment_years"), e["experience_years_min"])]
        out.append({"name": "otc_counterparty", "rule": e["rule"], "tests": tests, "passed": all(t["passed"] for t in tests)})
    return {"client_type": ct, "professional": out[0]["passed"], "eligible_otc": out[1]["passed"], "rules": out,
            "max_premium": max_premium, "premium_margin_max_fraction":
            oc["asset_product"]["premium_margin_max_fraction"] if ct == "asset_product" else None,
            "rules_version": rules_version()}


def questionnaire(values: dict) -> dict:
    """The questionnaire's score (0..100) and C-level (1..5) from the answers in ``values``;
    an unanswered question scores 0. {score, max, c_level, answers, rule}."""
    q = rules()["questionnaire"]
    score, answers = 0, {}
    for item in QUESTIONNAIRE:
        choice = values.get(item["name"])
        pts = next((p for v, _, p in item["choices"] if v == choice), 0)
        answers[item["name"]] = {"choice": choice, "score": pts}
        score += pts
    level = max(i + 1 for i, b in enumerate(q["bands"]) if score >= b)
    return {"score": score, "max": MAX_SCORE, "c_level": level, "answers": answers, "rule": q["rule"],
            "bands": q["bands"]}


def product_level(template: str | None) -> int:
    """The risk level R1..R5 (as 1..5) of a product by template name; OTC options are R5."""
    p = rules()["products"]
    name = (template or "").lower()
    for key, level in p.get("levels", {}).items():
        if name == key or name.startswith(key):
            return int(level)
    return int(p["default_level"])


def product_rule() -> str:
    return rules()["products"]["rule"]


def review_due(review_date: dt.date) -> dt.date:
    """The date the next annual review is due (review date + ``annual_review_months``)."""
    months = int(rules()["review"]["annual_review_months"])
    y, m = divmod(review_date.month - 1 + months, 12)
    year, month = review_date.year + y, m + 1
    import calendar

    return dt.date(year, month, min(review_date.day, calendar.monthrange(year, month)[1]))


def screened_owners(values: dict) -> list[tuple[str, float | None]]:
    """Beneficial owners to screen: those at or above the threshold share (or with no share given)."""
    cut = float(rules()["screening"]["beneficial_owner_share_min"])
    out = []
    for item in values.get("beneficial_owners") or []:
        try:
            name, share = parse_owner(item)
        except ValueError:
            continue
        if name and (share is None or share >= cut - 1e-9):
            out.append((name, share))
    return out


def aml_rating(values: dict, hits: list[dict], today: dt.date | None = None) -> dict:
    """AML risk rating low / medium / high from the documented factors of ``[aml.factors]``:
    {level, points, factors: [{factor, label, points}], rule}. ``hits`` are the case's current
    screening hits with their decisions (a true match is decisive: high)."""
    a = rules()["aml"]
    f = a["factors"]
    today = today or dt.date.today()
    found = []

    def add(key):
        found.append({"factor": key, "label": f[key]["label"], "points": int(f[key]["points"]),
                      "decisive": bool(f[key].get("decisive"))})

    if any(h.get("decision") == "true_match" for h in hits):
        add("true_match")
    if any(h.get("decision") is None for h in hits):
        add("open_hits")
    if any(h.get("decision") != "false_positive" and "role.pep" in (h.get("topics") or []) for h in hits):
        add("pep")
    if values.get("client_type") == "asset_product":
        add("asset_product")
    if not values.get("beneficial_owners"):
        add("no_beneficial_owner")
    est = values.get("established")
    if isinstance(est, dt.date) and (today - est).days < 730:
        add("young_entity")
    addr = values.get("registered_address") or ""
    import re

    if addr and (not re.search(r"[\u4e00-\u9fff]", addr) or re.search(r"香港|澳门|台湾|开曼|英属维尔京|Cayman|BVI", addr)):
        add("offshore_address")
    years = values.get("investment_years") if values.get("client_type") != "asset_product" else values.get("manager_years")
    if years is not None and years < 3:
        add("low_experience")
    pts = sum(x["points"] for x in found)
    level = "high" if pts >= a["high_min"] or any(x["decisive"] for x in found) else "medium" if pts >= a["medium_min"] else "low"
    return {"level": level, "points": pts, "factors": found, "rule": a["rule"], "medium_min": a["medium_min"],
            "high_min": a["high_min"]}
