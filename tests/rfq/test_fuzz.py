"""Bad input never crashes the parser: it returns requests (maybe none) or raises InputError."""
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from otclab.core.errors import InputError
from otclab.rfq import MAX_CHARS, QuoteRequest, parse

_PIECES = st.sampled_from(["中证500", "雪球", "敲出", "103", "/", "75", "1年", "票息多少", "IC", "zz1000", "看涨",
                           "平值", "5000w", "各", "分别", "都", "\n", "1.", "，", "？", "😀", "🙏", "ＫＯ", "百分之", "%"])


def _ok(text) -> None:
    try:
        out = parse(text)
    except InputError:
        return
    assert isinstance(out, list) and all(isinstance(r, QuoteRequest) for r in out)
    for r in out:
        for f, (s, e) in r.spans.items():
            assert 0 <= s <= e <= len(text if isinstance(text, str) else text.decode("utf-8"))
        for c in r.confidence.values():
            assert 0.0 <= c <= 1.0


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_any_unicode_text(text):
    _ok(text)


@settings(max_examples=150, deadline=None)
@given(st.lists(_PIECES, max_size=40).map("".join))
def test_rfq_like_mixtures(text):
    _ok(text)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300))
def test_binary_garbage(data):
    _ok(data)


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
