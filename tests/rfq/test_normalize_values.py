"""Normaliser (offset map, full-width, typos, Chinese numerals) and value parsers."""
import pytest

from otclab.rfq import parse
from otclab.rfq import values as V
from otclab.rfq.normalize import cn_to_int, normalize


def test_full_width_and_offsets_back_to_original():
    text = "ＺＺ１０００　雪球　ＫＯ１０３　ＫＩ７５　１Ｙ　票息？"
    n = normalize(text)
    assert n.text == "zz1000 雪球 ko103 ki75 1y 票息?"
    (r,) = parse(text)
    s, e = r.spans["ko_barrier"]
    assert text[s:e] == "ＫＯ１０３"
    s, e = r.spans["underlying"]
    assert text[s:e] == "ＺＺ１０００"
    assert r.confidence["ko_barrier"] == 1.0


def test_typos_and_chinese_numerals():
    n = normalize("中正500 雪求 敲处103 两年 名本五千万 百分之二十 敲入75一年")
    assert n.text == "中证500 雪球 敲出103 2年 名本5000万 20% 敲入75 1年"
    assert normalize("各报一个 五粮液 统一").text == "各报一个 五粮液 统一"
    assert normalize("名本5千万").text == "名本5千万"
    assert cn_to_int("十八") == 18 and cn_to_int("两千") == 2000 and cn_to_int("一五") == 15


def test_spans_survive_length_changes():
    text = "中证500 雪球 敲出103 敲入75 一年 票息多少"
    (r,) = parse(text)
    s, e = r.spans["tenor_months"]
    assert text[s:e] == "一年"


@pytest.mark.parametrize("text,value", [("5000w", 5e7), ("5kw", 5e7), ("1个亿", 1e8), ("2000万", 2e7),
                                        ("50mm", 5e7), ("名本 30000000", 3e7), ("1.5亿", 1.5e8), ("300", None)])
def test_amounts(text, value):
    assert V.amount(text) == value


@pytest.mark.parametrize("text,value", [("敲出103", 1.03), ("103%", 1.03), ("1.03", 1.03), ("ko 100", 1.0),
                                        ("70", 0.7), ("900", None)])
def test_levels(text, value):
    assert V.level(text) == value


@pytest.mark.parametrize("text,value", [("3个月", 3), ("1y", 12), ("12m", 12), ("1年半", 18), ("半年", 6),
                                        ("2年期", 24), ("18 个月", 18), ("3", None)])
def test_months(text, value):
    assert V.months(text) == value


def test_rates_and_step_down():
    assert V.rate("20%") == 0.2 and V.rate("票息15") == 0.15 and V.rate("0.2") == 0.2
    assert V.step_down("0.5%") == 0.005 and V.step_down("50bp") == 0.005 and V.step_down("降敲0.5") == 0.005
