"""General rules added after the blind2 run, each checked on phrasings that are not in any set."""
import pytest

from otclab.rfq import parse
from otclab.rfq import values as V
from otclab.rfq.normalize import normalize


def one(text: str) -> dict:
    (r,) = parse(text)
    return r.to_dict()


@pytest.mark.parametrize("text,expected", [
    ("敲出一百零二 敲入八十", "敲出102 敲入80"),    # numerals after a level keyword
    ("敲入七五 参与率九十", "敲入75 参与率90"),      # digit by digit after a keyword
    ("降敲零点五", "降敲0.5"),
    ("九十五的看跌", "95的看跌"),                     # compound numeral anywhere
    ("十分感谢 统一 五粮液 一个", "十分感谢 统一 五粮液 一个"),  # words stay words
])
def test_chinese_numerals_without_unit(text, expected):
    assert normalize(text).text == expected


def test_numerals_in_a_whole_message():
    d = one("姐 300 的凤凰 敲出一百 敲入六十五 派息线六十五 一年 票息多少")
    assert (d["ko_barrier"], d["ki_barrier"], d["coupon_barrier"], d["tenor_months"]) == (1.0, 0.65, 0.65, 12)


@pytest.mark.parametrize("text", [
    "大佬 1000 雪球 100/70 两年 票息 辛苦",
    "中证500雪球 敲出102 敲入80 24个月 cpn thanks",
    "老板好！沪深300 雪球，103/75，一年，锁三个月，票息麻烦报一下，谢谢！",
])
def test_questions_with_courtesy_words(text):
    assert one(text)["solve_for"] == "coupon"


@pytest.mark.parametrize("text,freq,ko", [
    ("中证1000 雪球 日度敲出103 敲入75 1年 票息多少", "daily", 1.03),
    ("中证1000 雪球 每月敲出 100/75 1年 票息多少", "monthly", 1.0),
])
def test_frequency_word_before_ko_keyword(text, freq, ko):
    d = one(text)
    assert (d["ko_frequency"], d["ko_barrier"]) == (freq, ko)


def test_ko_step_down_phrased_with_frequency_first():
    d = one("中证500 雪球 103/75 1年 每月敲出价下调0.5% 票息多少")
    assert d["ko_step_down"] == 0.005 and "ko_frequency" not in d


def test_full_width_futures_code_and_greeting_before_bare_index():
    assert one("ＩＭ　凤凰　１００／７０　派息７０　２Ｙ　票息？")["underlying"] == "000852.SH"
    assert one("哥 1000 鲨鱼鳍 看涨 障碍110 参与率90% 3个月 报价")["underlying"] == "000852.SH"
    assert parse("哥 500 今天跌了好多") == []
    assert parse("if possible pls call me back") == []


@pytest.mark.parametrize("text,option_type", [
    ("300ETF 向下鲨鱼鳍 障碍90 参与率80% 3个月 报价", "put"),
    ("中证1000 鲨鱼鳍 下跌参与 障碍85 参与率100% 3M 多少钱", "put"),
    ("中证1000 鲨鱼鳍 上涨参与率80% 障碍110 3M 多少钱", "call"),
])
def test_direction_words_give_the_option_type(text, option_type):
    assert one(text)["option_type"] == option_type


def test_moneyness_word_with_a_level_is_the_strike():
    assert V.strike("itm 110") == 1.1 and V.strike("虚值5%") == ("otm", 0.05)
    assert one("茅台 put ITM 110 1M price")["strike"] == 1.1
    assert one("IF 3M 105 call 报价")["strike"] == 1.05  # bare level right before the option word
    assert one("300 看涨 平值 1M 报价")["underlying"] == "000300.SH"  # 300 stays CSI 300


def test_scientific_notation_notional():
    assert V.amount("1e8") == 1e8 and V.amount("5e7") == 5e7
    assert one("沪深300 平值看涨 6个月 规模5e7 报价")["notional"] == 5e7


def test_respectively_after_the_keyword_pairs_with_the_underlyings():
    got = parse("中证500 和 中证1000 雪球 敲出分别是103和100 敲入75 一年 票息")
    assert [(r.underlying, r.ko_barrier) for r in got] == [("000905.SH", 1.03), ("000852.SH", 1.0)]


def test_fields_go_only_to_products_that_have_them():
    got = parse("500 雪球 100/70 2年 和 凤凰 100/70 派息70 2年 票息各多少")
    by = {r.structure: r for r in got}
    assert by["snowball"].coupon_barrier is None and by["phoenix"].coupon_barrier == 0.7


def test_list_item_numbers_are_not_levels():
    got = parse("1）500 平值看涨 1M\n2）1000 平值看跌 1M\n价格都报一下")
    assert [r.to_dict() for r in got] == [
        {"underlying": "000905.SH", "structure": "vanilla", "option_type": "call", "tenor_months": 1, "strike": 1.0, "solve_for": "price"},
        {"underlying": "000852.SH", "structure": "vanilla", "option_type": "put", "tenor_months": 1, "strike": 1.0, "solve_for": "price"}]


def test_question_closing_a_numbered_list_asks_for_every_item():
    got = parse("(1) 中证500 雪球 103/75 1y (2) 中证1000 雪球 103/70 1y 票息")
    assert [(r.underlying, r.solve_for) for r in got] == [("000905.SH", "coupon"), ("000852.SH", "coupon")]


def test_stated_field_is_not_the_question():
    d = one("茅台 看涨 110% 行权 3个月 报价")
    assert (d["strike"], d["solve_for"]) == (1.1, "price")


@pytest.mark.parametrize("text", [
    "500雪球 103/75 1年 敲入了怎么办",
    "1000 雪球 103/75 1年 名本3千万 已经打款了",
    "确认一下 300 雪球 100/70 2年 下周一起息",
])
def test_talk_about_a_booked_trade(text):
    assert parse(text) == []


def test_user_aliases_are_normalised_like_messages(tmp_path):
    import json
    extra = tmp_path / "u.json"
    extra.write_text(json.dumps([{"code": "000905.SH", "aliases": ["小盘五百", "ＸＰ５００"]}], ensure_ascii=False), encoding="utf-8")
    for name in ("小盘五百", "小盘500", "xp500"):
        (r,) = parse(f"{name} 雪球 103/75 1年 票息多少", underlyings=[extra])
        assert r.underlying == "000905.SH"


def test_bare_index_after_a_connector_or_before_a_product_word():
    got = parse("中证500 雪球 103/75 1年 票息多少 另外 300 平值看涨 1M 报个价")
    assert [(r.underlying, r.structure, r.solve_for) for r in got] == [
        ("000905.SH", "snowball", "coupon"), ("000300.SH", "vanilla", "price")]
    assert one("老板 今天 500 看涨 平值 1M 报价")["underlying"] == "000905.SH"
    assert parse("今天 500 跌了 看涨情绪很浓") == []


@pytest.mark.parametrize("text", ["中证500 学球 103/75 1年 票息", "中证500 xq 103/75 1y 票息", "zz500 xueqiu 103/75 1y cpn"])
def test_snowball_typed_in_pinyin_or_by_homophone(text):
    d = one(text)
    assert (d["structure"], d["ko_barrier"], d["ki_barrier"]) == ("snowball", 1.03, 0.75)


def test_bare_level_after_the_option_word_and_bare_step_down_and_mm():
    assert one("SSE50 put 95 1m price")["strike"] == 0.95
    assert one("中证1000 看跌 0.95 1m 报价")["strike"] == 0.95
    assert one("中证500 雪球 103/75 1年 锁3 降0.5 票息")["ko_step_down"] == 0.005
    assert one("中证500 雪球 103/75 1年 100mm 票息")["notional"] == 1e8


@pytest.mark.parametrize("text,solve_for", [
    ("中证500 100-70 雪球 两年 多少", "coupon"),            # an autocallable is quoted in coupon
    ("500雪球 103 75 一年 现在大概什么水平", "coupon"),
    ("茅台 平值看涨 1个月 多少？", "price"),                 # an option in price
    ("中证500 雪球 敲出103 敲入75 1年 票息20% 多少", "price"),  # coupon stated: the price is left
    ("中证500 雪球 敲出103 敲入75 1年 票息20% 期权费多少", "price"),
    ("中证1000 鲨鱼鳍 看涨 障碍110 3M 多少", None),          # price or participation: not implied
    ("500雪球 103/75 1年 名本多少", None),                   # asks about size, not a quote
])
def test_question_that_names_no_field(text, solve_for):
    got = parse(text)
    assert [r.solve_for for r in got] == [solve_for]


def test_asking_for_documents_is_not_a_quote_request():
    assert parse("中证1000 雪球 103/75 的条款发我一份") == []
    assert parse("中证1000 雪球 103/75 1年 termsheet 发一下") == []


def test_moneyness_lists():
    assert [r.strike for r in parse("中证500 看跌 虚值5%/10% 3个月 报价")] == [0.95, 0.9]
    assert [r.strike for r in parse("中证500 看涨 otm 5/10 1m price")] == [1.05, 1.1]


@pytest.mark.parametrize("text,expected", [
    ("名本伍仟万 壹年", "名本5000万 1年"),           # formal numerals
    ("名本 50,000,000", "名本 50000000"),             # thousands separators
    ("名本 5,000万", "名本 5000万"),
    ("500,300 雪球", "500,300 雪球"),                 # two index numbers stay two
])
def test_formal_numerals_and_thousands_separators(text, expected):
    assert normalize(text).text == expected


def test_question_written_as_an_empty_field():
    d = one("中证500 雪球 敲出103 敲入75 1年 锁定期：3个月 降敲：0.5%/月 票息：？")
    assert (d["lockup_months"], d["ko_step_down"], d["solve_for"]) == (3, 0.005, "coupon")


@pytest.mark.parametrize("text,notional,tenor", [
    ("quote SSE50 3m 95% put, 100m notional", 1e8, 3),          # keyword after the amount
    ("中证500 雪球 103/75 1年 5000万名本 票息", 5e7, 12),
    ("50ETF 认购 虚值10% 3M notional 30m premium?", 3e7, 3),      # 3M is the tenor here
    ("中证500 平值看涨 3m 规模 报价", None, 3),
])
def test_notional_keyword_after_the_amount(text, notional, tenor):
    (r,) = parse(text)
    assert (r.notional, r.tenor_months) == (notional, tenor)
    assert r.solve_for in ("price", "coupon", None)


@pytest.mark.parametrize("text,freq", [
    ("中证500 雪球 103/75 1年 敲出观察日：每月 票息", "monthly"),  # 观察日 is not 'daily'
    ("中证500 雪球 103/75 1年 敲出观察日：每日 票息", "daily"),
    ("中证500 雪球 103/75 1年 每个月观察 票息", "monthly"),
    ("中证500 雪球 103/75 1年 每两个月观察 票息", None),          # bimonthly: no such value
])
def test_observation_frequency_phrasings(text, freq):
    (r,) = parse(text)  # '每两个月' is a period, not a second tenor
    assert (r.ko_frequency, r.tenor_months) == (freq, 12)


@pytest.mark.parametrize("text", ["中证500 欧式雪球 103/75 1年 票息", "中证500 雪球 103/75 1年 欧式敲入 票息",
                                  "中证500 早利雪球 103/75 1年 票息"])
def test_qualified_snowballs_are_one_snowball(text):
    assert [r.structure for r in parse(text)] == ["snowball"]
    assert one("中证500 欧式看涨 平值 1M 报价")["structure"] == "vanilla"


def test_latin_question_words_next_to_chinese_and_also_is():
    assert one("50etf put 平值 1个月 IV多少")["solve_for"] == "vol"
    d = one("想问下沪深300的凤凰，敲出100敲入70，派息线也是70，1年，票息多少？")
    assert d["coupon_barrier"] == 0.7


@pytest.mark.parametrize("text", ["A500 雪球 103/75 1年 票息", "A50 平值看涨 1M 报价"])
def test_model_does_not_split_an_unknown_code(text):
    # the NER tags the digits of 'a500' as CSI 500; an entity cutting a latin/digit word is dropped,
    # so an unknown index stays unset instead of becoming a wrong one
    (r,) = parse(text)
    assert r.underlying is None and r.structure is not None


@pytest.mark.parametrize("amount", ["5千w", "五千w", "五kw", "半个亿", "0.5个亿", "5,000万", "伍仟万"])
def test_notional_spellings(amount):
    assert one(f"中证500 雪球 103/75 1年 名本{amount} 票息")["notional"] == 5e7


@pytest.mark.parametrize("text", ["客户说 500 雪球 103/75 1年 票息太低", "500雪球 103/75 1年 票息18% 这个水平可以",
                                  "中证500 雪球 103/75 1年 票息18% 可以做"])
def test_verdicts_on_a_quote_are_not_requests(text):
    assert parse(text) == []


def test_verdict_with_a_new_question_is_a_request():
    (r,) = parse("票息太低了 500雪球 103/75 1年 能不能再报一下票息")
    assert r.solve_for == "coupon"
