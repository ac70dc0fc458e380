"""Label matching: labels at the start of cells and clauses, never inside value cells."""
from __future__ import annotations

from otclab.confirm.labels import match_label


def test_label_cells_and_clauses():
    m = match_label("敲出价格")
    assert m.fields == ("ko_barrier",) and m.remainder == ""
    assert match_label("敲 出 障 碍 价 格").fields == ("ko_barrier",)
    m = match_label("（二）名义本金（元）：3,000万")
    assert m.fields[0] == "notional" and m.remainder == "3,000万"
    m = match_label("10. 行权价格：2,350.89（期初价格的97.5%）")
    assert m.fields == ("strike",) and m.remainder.startswith("2,350.89")
    assert match_label("敲出价格水平：103%").fields == ("ko_barrier",)


def test_value_cells_are_not_labels():
    assert match_label("期初价格×103%") is None
    assert match_label("期初价格的75%") is None
    assert match_label("期初价格指起始日标的收盘价格") is None


def test_ambiguous_label_feeds_both_fields():
    m = match_label("期权类型：欧式看涨期权")
    assert set(m.fields) == {"option_type", "structure"}
    assert m.ranks["option_type"] < m.ranks["structure"]


def test_bilingual_and_parenthesised_labels():
    assert match_label("交易日 Trade Date").remainder == ""
    assert match_label("交易日 Trade Date：2025-01-17").remainder == "2025-01-17"
    assert match_label("期权类型 Call（看涨）").remainder == "Call(看涨)"
    assert match_label("期权类型 Call").remainder == "Call"  # an English value is not a label
    assert match_label("甲方（卖方）").fields == ("party_a",)
    assert match_label("参与率(%)：80").remainder == "80"


def test_glued_cells_are_cut():
    from otclab.confirm.labels import split_glued

    assert split_glued("中证500指数（000905.SH）成交日") == ["中证500指数(000905.SH)", "成交日"]
    assert split_glued("名义本金（元）人民币150,000,000.00元") == ["名义本金(元)", "人民币150,000,000.00元"]
    assert split_glued("敲出补偿收益率") == ["敲出补偿收益率"]
    assert split_glued("期初价格×103%") == ["期初价格×103%"]
    assert split_glued("若不低于敲出价格则发生敲出") == ["若不低于敲出价格则发生敲出"]
