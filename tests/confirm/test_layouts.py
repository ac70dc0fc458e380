"""Annotated layouts: the file format's checks, saving and loading, matching a document to its
layout, and extraction with a layout against the generic extractor on the same document."""
from __future__ import annotations

import json

import pytest

from otclab.confirm import layouts as L
from otclab.confirm.extract import extract_file
from otclab.core.errors import InputError

GOOD = {
    "id": "yunqi-2025", "counterparty": "杭州云栖股权投资合伙企业（有限合伙）", "version": 1,
    "markers": ["云栖资本", "期权交易确认函"],
    "fields": {
        "trade_id": {"labels": ["合约参考号"], "unit": "auto", "position": "right"},
        "notional": {"labels": ["名义本金（万元）"], "unit": "wan_yuan", "position": "right"},
        "strike": {"labels": ["执行水平"], "unit": "level_pct", "position": "right"},
        "participation": {"labels": ["收益分享比例"], "unit": "pct", "position": "right"},
        "rebate": {"labels": ["固定收益率"], "unit": "pct", "position": "right"},
    },
    "thresholds": {"participation": 0.95},
}

ROWS = [("合约参考号", "YQ-2025-0317"), ("交易日", "2025年3月17日"), ("起始日", "2025年3月18日"),
        ("到期日", "2025年9月18日"), ("产品类型", "看涨鲨鱼鳍期权"), ("标的资产", "中证500指数（000905.SH）"),
        ("名义本金（万元）", "3,000"), ("期初价格", "5,800.00点"), ("执行水平", "100.00%"),
        ("障碍价格", "期初价格×120%"), ("收益分享比例", "80.00%"), ("固定收益率", "3.00%")]


def _draw(path):
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    from otclab.confirm.generate import _font

    font = _font()
    c = canvas.Canvas(str(path), pagesize=A4)
    c.setFont(font, 15)
    c.drawCentredString(297, 800, "云栖资本 期权交易确认函")
    c.setFont(font, 10)
    y = 760
    for a, b in [("甲方：", "华信证券股份有限公司"), ("乙方：", "杭州云栖股权投资合伙企业（有限合伙）")] + ROWS:
        c.drawString(60, y, a)
        c.drawString(200, y, b)
        y -= 18
    c.save()
    return path


def test_file_round_trip_and_checks(tmp_path):
    lay = L.from_dict(GOOD)
    path = L.save(lay, tmp_path)
    assert path.name == "yunqi-2025.json"
    back = L.load(path)
    assert back.to_dict() == lay.to_dict() and back.source == str(path)
    assert L.threshold("participation", back) == 0.95
    assert L.threshold("participation", None) == L.DEFAULT_THRESHOLDS["participation"]
    for bad, where in [
        ({**GOOD, "id": "Bad Id"}, "layout.id"),
        ({**GOOD, "markers": []}, "layout.markers"),
        ({**GOOD, "fields": {"coupons": {"labels": ["票息"]}}}, "layout.fields.coupons"),
        ({**GOOD, "fields": {"notional": {"labels": ["本金"], "unit": "pct"}}}, "layout.fields.notional.unit"),
        ({**GOOD, "fields": {"strike": {"labels": ["执行"], "position": "left"}}}, "layout.fields.strike.position"),
        ({**GOOD, "fields": {"strike": {"labels": ["执行"]}, "barrier": {"labels": ["执行："]}}},
         "layout.fields.barrier.labels"),
        ({**GOOD, "thresholds": {"strike": 1.5}}, "layout.thresholds.strike"),
        ({**GOOD, "colour": "red"}, "layout"),
    ]:
        with pytest.raises(InputError) as ei:
            L.from_dict(bad)
        assert ei.value.field == where
    (tmp_path / "broken.json").write_text("{not json")
    with pytest.raises(InputError, match="not valid JSON"):
        L.load(tmp_path / "broken.json")


def test_a_save_names_its_user_keeps_the_layout_it_replaces_and_needs_operations(tmp_path):
    import hashlib

    from otclab.access import Identity

    ops, trader = Identity("ops.wang", frozenset({"operations"})), Identity("li.trader", frozenset({"trader"}))
    first = L.save(L.from_dict(GOOD), tmp_path, by=ops)
    v1 = first.read_bytes()
    L.save(L.from_dict(GOOD), tmp_path, by=ops)            # the same layout again: nothing new recorded
    L.save(L.from_dict({**GOOD, "version": 2, "markers": ["云栖资本"]}), tmp_path, by=ops)
    with pytest.raises(InputError, match="li.trader may not save confirmation layouts: only the operations") as ei:
        L.save(L.from_dict({**GOOD, "version": 3}), tmp_path, by=trader)
    assert ei.value.field == "user"
    assert L.load(first).version == 2
    h = L.history(tmp_path)
    assert [(e["by"], e["layout"], e["version"]) for e in h] == [("ops.wang", "yunqi-2025", 1),
                                                                ("ops.wang", "yunqi-2025", 2)]
    assert h[0]["replaced"] is None and h[1]["sha256"] == hashlib.sha256(first.read_bytes()).hexdigest()
    kept = tmp_path / h[1]["replaced"]
    assert kept.read_bytes() == v1 and kept.parent.name == "history"
    # the kept copies are not layouts extraction reads
    assert [x.version for x in L.load_all([tmp_path])] == [2]


def test_ops_folder_replaces_shipped_layout(tmp_path, monkeypatch):
    shipped, ops = tmp_path / "shipped", tmp_path / "ops"
    L.save(L.from_dict(GOOD), shipped)
    L.save(L.from_dict({**GOOD, "version": 2}), ops)
    L.save(L.from_dict({**GOOD, "id": "other", "markers": ["另一家"]}), ops)
    got = {x.id: x.version for x in L.load_all([shipped, ops])}
    assert got == {"yunqi-2025": 2, "other": 1}
    monkeypatch.setenv("OTCLAB_CONFIRM_LAYOUTS", str(ops))
    assert L.ops_dir() == ops


def test_extraction_with_and_without_the_layout(tmp_path):
    pdf = _draw(tmp_path / "yq.pdf")
    generic = extract_file(pdf, layouts=[])
    assert generic.layout is None
    # the generic table does not know 合约参考号/执行水平/收益分享比例 and reads 固定收益率 as a
    # coupon, 3,000 as yuan: those readings are wrong, and their confidence must say so
    assert generic.fields["participation"] is None and generic.fields["rebate"] is None
    assert generic.fields["coupon"] == 0.03
    assert "coupon" in L.below_threshold(generic)
    lay = L.from_dict(GOOD)
    ex = extract_file(pdf, layouts=[lay])
    assert ex.layout == "yunqi-2025"
    assert {k: ex.fields[k] for k in ("trade_id", "notional", "strike", "participation", "rebate", "coupon",
                                      "barrier", "structure", "option_type", "counterparty")} == {
        "trade_id": "YQ-2025-0317", "notional": 30_000_000.0, "strike": 1.0, "participation": 0.8,
        "rebate": 0.03, "coupon": None, "barrier": 1.2, "structure": "sharkfin", "option_type": "call",
        "counterparty": "杭州云栖股权投资合伙企业（有限合伙）"}
    assert L.below_threshold(ex) == []
    d = json.loads(json.dumps(ex.to_json(details=True)))  # what the worker sends between processes
    assert d["layout"] == "yunqi-2025" and all(0.0 <= c <= 1.0 for c in d["confidence"].values())
    assert type(ex).from_json(d).layout == "yunqi-2025"
    # a document without the markers does not match the layout
    other = L.from_dict({**GOOD, "markers": ["明川资本"]})
    assert extract_file(pdf, layouts=[other]).layout is None


def test_cli_list_show_check(tmp_path, monkeypatch, capsys):
    from otclab.cli.main import main

    monkeypatch.setenv("OTCLAB_CONFIRM_LAYOUTS", str(tmp_path / "ops"))
    L.save(L.from_dict(GOOD), tmp_path / "ops")
    assert main(["confirm", "layouts", "list"]) == 0
    out = capsys.readouterr().out
    assert "yunqi-2025" in out and "mingchuan-mc-form-07" in out  # operations' and shipped
    assert main(["confirm", "layouts", "show", "yunqi-2025"]) == 0
    assert json.loads(capsys.readouterr().out)["fields"]["notional"]["unit"] == "wan_yuan"
    assert main(["confirm", "layouts", "show", "nope"]) == 2
    assert "no layout 'nope'" in capsys.readouterr().err
    pdf = _draw(tmp_path / "yq.pdf")
    assert main(["confirm", "layouts", "check", str(tmp_path / "ops" / "yunqi-2025.json"), "--sample", str(pdf)]) == 0
    out = capsys.readouterr().out
    assert "valid" in out and "participation" in out and "BREAK" not in out
    (tmp_path / "bad.json").write_text(json.dumps({**GOOD, "fields": {"strike": {"labels": ["执行水平"], "unit": "万元"}}}))
    assert main(["confirm", "layouts", "check", str(tmp_path / "bad.json")]) == 2
    assert "bad.json.fields.strike.unit" in capsys.readouterr().err


def test_a_bad_file_in_the_ops_folder_does_not_stop_extraction(tmp_path, monkeypatch):
    ops = tmp_path / "ops"
    L.save(L.from_dict(GOOD), ops)
    (ops / "broken.json").write_text('{"id": "x y"}')
    monkeypatch.setenv("OTCLAB_CONFIRM_LAYOUTS", str(ops))
    with pytest.raises(InputError, match="broken.json.id"):
        L.load_all()
    ex = extract_file(_draw(tmp_path / "yq.pdf"))  # default layouts: shipped + the ops folder
    assert ex.layout == "yunqi-2025" and ex.fields["participation"] == 0.8
    assert any("broken.json skipped" in w for w in ex.warnings)
