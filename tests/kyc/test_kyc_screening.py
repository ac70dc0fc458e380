"""Screening: FollowTheMoney lists, Chinese and Latin near-matches with score and entry, the
index agreeing with the brute-force scan, remembered false positives, rescreening on a change."""
from __future__ import annotations

import json

import pytest
from kyc_support import new_case, reviewers

from otclab.core.errors import InputError
from otclab.kyc import service as K
from otclab.kyc.demo_lists import demo_entities, write_list
from otclab.kyc.screening import DEMO_LIST, load_lists, normalise

EXTRA = [
    {"id": "t-co-1", "schema": "Company", "properties": {"name": ["瀚海鼎盛投资控股有限公司"], "topics": ["sanction"]}},
    {"id": "t-p-1", "schema": "Person", "properties": {"name": ["郑远航"], "alias": ["Zheng Yuanhang"],
                                                       "topics": ["role.pep"]}},
    {"id": "t-p-2", "schema": "Person", "properties": {"name": ["Viktor Petrovv"], "topics": ["sanction"]}},
    {"id": "t-x", "schema": "Vessel", "properties": {"name": ["瀚海鼎盛号"]}},
]


def test_the_shipped_demo_list_loads_as_followthemoney():
    (sl,) = load_lists(DEMO_LIST)
    assert len(sl.entries) == 300 and sl.name == "demo_sanctions" and len(sl.version) == 64
    assert {e.schema for e in sl.entries} <= {"Person", "Company", "Organization"}
    assert any(any("\u4e00" <= ch <= "\u9fff" for ch in n) for e in sl.entries for n in e.names)
    assert any(n.isascii() for e in sl.entries for n in e.names)


def test_chinese_and_latin_near_matches_with_score_and_entry(tmp_path):
    (sl,) = load_lists(write_list(tmp_path / "t.jsonl", EXTRA))
    assert [e.id for e in sl.entries] == ["t-co-1", "t-p-1", "t-p-2"]           # a Vessel is not screened
    (h,) = sl.search("瀚海鼎盛投资有限公司", 85)
    assert h["entry_id"] == "t-co-1" and 85 <= h["score"] < 100 and h["entry_name"] == "瀚海鼎盛投资控股有限公司"
    (h,) = sl.search("Viktor Petrov", 85)
    assert h["entry_id"] == "t-p-2" and 85 <= h["score"] < 100
    (h,) = sl.search("YUANHANG ZHENG", 85)                                    # word order and case ignored
    assert h["entry_id"] == "t-p-1" and h["score"] == 100 and h["topics"] == ["role.pep"]
    assert sl.search("完全不同的名字有限公司", 85) == []
    assert normalise("Golden Trading Co., Ltd.") == normalise("GOLDEN TRADING LIMITED")


def test_the_index_finds_what_the_brute_force_scan_finds(tmp_path):
    ents = demo_entities(3000, seed=3)
    (sl,) = load_lists(write_list(tmp_path / "big.jsonl", ents))
    queries = [e["properties"]["name"][0] for e in ents[:60]]
    queries += [q[:-1] + "x" for q in queries[:20]] + [q.replace("有限公司", "集团有限公司") for q in queries[:20]]
    for q in queries:
        assert sl.search(q, 85) == sl.search_bruteforce(q, 85), q


def test_a_malformed_list_is_refused_with_the_line(tmp_path):
    p = tmp_path / "bad.jsonl"
    p.write_text(json.dumps(EXTRA[0], ensure_ascii=False) + "\n{not json\n", encoding="utf-8")
    with pytest.raises(InputError, match="line 2"):
        load_lists(p)


def _submit_hanhai(store, cp, user):
    case = new_case(store, counterparty_id=cp, username=user)
    K.submit(store, case, user)
    return case


def test_hits_are_stored_a_cleared_false_positive_is_remembered_and_a_list_change_rescreens(store, tmp_path):
    who = reviewers()
    K.register_list(store, write_list(tmp_path / "watch.jsonl", EXTRA), "carl.comp")
    a = _submit_hanhai(store, "CP-A", "client.a")
    hits = K.view(store, a).hits
    got = {(h["subject_role"], h["entry_id"]) for h in hits}
    assert got == {("institution", "t-co-1"), ("legal_rep", "t-p-1"), ("owner", "t-p-1")}
    assert all(h["decision"] is None and h["score"] >= 85 for h in hits)
    aml = K.view(store, a).aml
    assert {"open_hits", "pep"} <= {f["factor"] for f in aml["factors"]} and aml["level"] == "high"
    # compliance cannot approve with open hits; sales and operations can move the case on
    K.act(store, a, "approve", who["sales"])
    K.act(store, a, "approve", who["operations"])
    with pytest.raises(K.CaseError, match="not decided"):
        K.act(store, a, "approve", who["compliance"])
    inst = next(h for h in hits if h["subject_role"] == "institution")
    K.decide_hit(store, a, inst["hit_id"], "false_positive", "carl.comp", "控股公司与本机构无关联")
    with pytest.raises(Exception, match="already decided"):
        K.decide_hit(store, a, inst["hit_id"], "true_match", "carl.comp", "again")
    # the same institution name on another case: the false positive comes back decided
    b = _submit_hanhai(store, "CP-B", "client.b")
    hb = {h["subject_role"]: h for h in K.view(store, b).hits}
    assert hb["institution"]["decision"] == "false_positive" and "cleared before" in hb["institution"]["comment"]
    assert hb["legal_rep"]["decision"] is None
    # a new version of the list: both cases are rescreened, decisions kept, a new entry shows up
    newer = EXTRA + [{"id": "t-co-2", "schema": "Company", "properties": {"name": ["瀚海鼎盛投资公司"]}}]
    r = K.register_list(store, write_list(tmp_path / "watch.jsonl", newer), "carl.comp")
    assert r["new"]
    assert sorted(K.rescreen(store, "carl.comp")) == sorted([a, b])
    assert K.rescreen(store, "carl.comp") == []                     # nothing changed since
    ha = {(h["subject_role"], h["entry_id"]): h for h in K.view(store, a).hits}
    assert ha[("institution", "t-co-1")]["decision"] == "false_positive"
    assert ha[("institution", "t-co-2")]["decision"] is None
    assert "rescreened" in [e["action"] for e in K.view(store, a).history]
    same = K.register_list(store, tmp_path / "watch.jsonl", "carl.comp")
    assert not same["new"]


def test_an_approved_client_with_a_new_hit_is_suspended_until_it_is_cleared(store, seal, one_agreement, tmp_path):
    from kyc_support import approve_all, sign_all

    K.register_list(store, write_list(tmp_path / "w.jsonl", EXTRA[2:3]), "carl.comp")      # no hit yet
    case = _submit_hanhai(store, "CP-R", "client.r")
    approve_all(store, case)
    sign_all(store, case, seal, by="client.r")
    with store.connect() as c:
        assert K.client_status(c, "CP-R").tradable
    K.register_list(store, write_list(tmp_path / "w.jsonl", EXTRA), "carl.comp")
    assert K.rescreen(store, "carl.comp") == [case]
    with store.connect() as c:
        st = K.client_status(c, "CP-R")
    assert not st.tradable and "new screening hit" in st.reason
    for h in K.view(store, case).hits:
        K.decide_hit(store, case, h["hit_id"], "false_positive", "carl.comp", "已核实非同一人")
    with store.connect() as c:
        assert K.client_status(c, "CP-R").tradable
    K.register_list(store, write_list(tmp_path / "w.jsonl", EXTRA + [
        {"id": "t-co-9", "schema": "Company", "properties": {"name": ["瀚海鼎盛投资有限公司"]}}]), "carl.comp")
    K.rescreen(store, "carl.comp")
    hit = next(h for h in K.view(store, case).hits if h["entry_id"] == "t-co-9")
    K.decide_hit(store, case, hit["hit_id"], "true_match", "carl.comp", "同名同址，确认命中")
    with store.connect() as c:
        st = K.client_status(c, "CP-R")
    assert not st.tradable and "true match" in st.reason
