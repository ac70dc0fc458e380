"""Property-based fuzzing of the chat parser (issue 12): any message gives requests (maybe none)
with finite, in-range numbers and spans inside the message, or one InputError naming ``text``;
never another exception. Derandomized (the same examples in every CI run); ``max_examples`` is
stated on each test."""
import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from otclab.cli.main import main
from otclab.core.errors import InputError
from otclab.rfq import FIELDS, MAX_CHARS, QuoteRequest, parse

FUZZ = dict(derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

_PIECES = st.sampled_from(["中证500", "雪球", "敲出", "103", "/", "75", "1年", "票息多少", "IC", "zz1000", "看涨",
                           "平值", "5000w", "各", "分别", "都", "\n", "1.", "，", "？", "😀", "🙏", "ＫＯ", "百分之", "%",
                           "一", "十", "百", "两千万", "9999999999999999999", "1e99", "0.000001", "亿", "个月", "降敲",
                           "锁", "参与率", "行权价", "凤凰", "鲨鱼鳍", "和", "、", ";", "\ufdfa", "\u200b", "\x00"])

# Ranges the contract promises (request.py, values.py): what the parser may ever put in a request.
NUMBER_RANGES = {"tenor_months": (0, 120), "strike": (0.2, 3.0), "ko_barrier": (0.2, 3.0), "ki_barrier": (0.2, 3.0),
                 "barrier": (0.2, 3.0), "coupon_barrier": (0.2, 3.0), "coupon": (0, 1), "participation": (0, 5),
                 "rebate": (0, 1), "notional": (1e4, 1e11), "lockup_months": (0, 120), "ko_step_down": (0, 0.05)}


def _ok(text, use_model=True) -> None:
    try:
        out = parse(text, use_model=use_model)
    except InputError as exc:
        assert exc.field == "text" and "\n" not in str(exc)
        return
    assert isinstance(out, list) and all(isinstance(r, QuoteRequest) for r in out)
    n = len(text if isinstance(text, str) else text.decode("utf-8"))
    for r in out:
        d = r.to_dict()
        assert set(d) <= set(FIELDS)
        for f, v in d.items():
            if f in NUMBER_RANGES:
                lo, hi = NUMBER_RANGES[f]
                assert isinstance(v, (int, float)) and math.isfinite(v) and lo <= v <= hi, (f, v, text)
            else:
                assert isinstance(v, str), (f, v)
        for f, (s, e) in r.spans.items():
            assert 0 <= s <= e <= n
        for c in r.confidence.values():
            assert 0.0 <= c <= 1.0


@settings(max_examples=150, **FUZZ)
@given(st.text(max_size=300))
def test_any_unicode_text(text):
    _ok(text)


@settings(max_examples=200, **FUZZ)
@given(st.lists(_PIECES, max_size=40).map("".join))
def test_rfq_like_mixtures(text):
    _ok(text)


@settings(max_examples=100, **FUZZ)
@given(st.binary(max_size=300))
def test_binary_garbage(data):
    _ok(data)


@settings(max_examples=40, **FUZZ)
@given(st.lists(_PIECES, min_size=1, max_size=6).map("".join), st.integers(200, 2500))
def test_long_repetitions_rules_only(piece, times):
    """Long repetitive messages near the limit (where quadratic work used to hide), rules only."""
    _ok((piece * times)[: MAX_CHARS + 5], use_model=False)


@settings(max_examples=30, **FUZZ)
@given(st.text(max_size=200))
def test_command_line_never_tracebacks(text):
    code = main(["rfq", "parse", "--rules-only", "--json", "--", text])
    assert code in (0, 2)


def test_edge_inputs():
    assert parse("") == []
    assert parse("😀🙏👌" * 20) == []
    _ok("中证500 snowball ΚΟ 103 κι 75 один год 票息?")
    long = "中证500 雪球 敲出103 敲入75 1年 票息多少 " * 400  # ~10,000 characters
    assert len(long) >= 10_000
    try:
        out = parse(long)
        assert len(out) == 1  # the same request repeated collapses to one
    except InputError as exc:
        assert str(MAX_CHARS) in str(exc)
