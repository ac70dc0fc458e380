"""The underlying pool and jargon file: read by the parser, replaceable without a release, and a
bad entry is one clear error naming its line and field."""
import json
import re

import pytest

from otclab.cli.main import main
from otclab.core.errors import InputError
from otclab.rfq import parse
from otclab.rfq.pool import load_pool, shipped_pool_path

SHIPPED = shipped_pool_path().read_text(encoding="utf-8")


def test_shipped_pool_is_read():
    t = load_pool()
    assert t.source.endswith("pool.toml") and len(t.by_code) >= 39
    assert t.by_code["000905.SH"].exchange == "SSE" and t.by_code["399006.SZ"].exchange == "SZSE"
    assert t.lookup("中证五百") == "000905.SH" and t.lookup("茅子") == "600519.SH" and t.lookup("IC2412") == "000905.SH"
    assert [k for k, _ in t.jargon.structure] == ["snowball", "phoenix", "sharkfin", "vanilla", "digital", "asian",
                                                   "barrier"]
    assert t.jargon.tenor_months("半年") == 6 and t.jargon.tenor_months("一个季度") == 3


def _edited(tmp_path, old: str, new: str, name: str = "pool.toml"):
    assert SHIPPED.count(old) == 1, old
    p = tmp_path / name
    p.write_text(SHIPPED.replace(old, new), encoding="utf-8")
    return p


def test_an_edited_pool_changes_the_parse(tmp_path, monkeypatch):
    msg = "小盘 雪球 103/75 1年 票息多少"
    assert parse(msg)[0].underlying is None  # the shipped pool does not know 小盘
    p = _edited(tmp_path, 'nicknames = ["中证一千",', 'nicknames = ["小盘", "中证一千",')
    assert parse(msg, pool=p)[0].underlying == "000852.SH"
    monkeypatch.setenv("OTCLAB_RFQ_POOL", str(p))
    assert parse(msg)[0].underlying == "000852.SH"
    # an edit of the file in use is read at the next message (no restart, no release)
    p.write_text(SHIPPED.replace('nicknames = ["中证一千",', 'nicknames = ["小盘", "小票", "中证一千",'), encoding="utf-8")
    assert parse("小票 雪球 103/75 1年 票息多少")[0].underlying == "000852.SH"


def test_jargon_words_come_from_the_pool(tmp_path):
    msg = "中证500 平值看涨 一季 报价"
    assert parse(msg)[0].tenor_months is None
    p = _edited(tmp_path, '"一个季度" = 3', '"一个季度" = 3\n"一季" = 3')
    assert parse(msg, pool=p)[0].tenor_months == 3
    assert all(r.structure is None for r in parse("中证500 经典款 103/75 1年 票息多少"))
    p = _edited(tmp_path, 'words = ["雪球",', 'words = ["经典款", "雪球",', "p3.toml")
    (r,) = parse("中证500 经典款 103/75 1年 票息多少", pool=p)
    assert r.structure == "snowball" and (r.ko_barrier, r.ki_barrier) == (1.03, 0.75)
    p = _edited(tmp_path, '"按这个结构",', '"抄作业", "按这个结构",', "p4.toml")
    got = parse("中证500 雪球 103/75 1年 票息多少；中证1000 抄作业", pool=p)
    assert [r.underlying for r in got] == ["000905.SH", "000852.SH"] and got[1].ko_barrier == 1.03


def test_a_pool_of_underlyings_only_keeps_the_shipped_jargon(tmp_path):
    p = tmp_path / "mine.toml"
    p.write_text('[[underlying]]\ncode = "000001.SZ"\nexchange = "SZSE"\nnames = ["平安银行"]\nnicknames = ["平银"]\n',
                 encoding="utf-8")
    (r,) = parse("平银 平值看涨 1个月 报价", pool=p)
    assert (r.underlying, r.structure, r.strike) == ("000001.SZ", "vanilla", 1.0)
    assert parse("中证500 雪球 103/75 1年 票息多少", pool=p)[0].underlying is None  # only its own underlyings


def _line(p, needle: str) -> int:
    return next(i for i, l in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if needle in l)


@pytest.mark.parametrize("old,new,needle,field,message", [
    ('code = "000852.SH"', 'code = "000852.XX"', '000852.XX', "underlying[2].code", "code must be 6 digits"),
    ('code = "000852.SH"\nexchange = "SSE"', 'code = "000852.SH"\nexchange = "SZSE"', 'exchange = "SZSE"',
     "underlying[000852.SH].exchange", "exchange of 000852.SH is SSE"),
    ('nicknames = ["中证一千",', 'nickname = ["中证一千",', 'nickname = ', "underlying[2].nickname",
     "unknown key 'nickname'"),
    ('nicknames = ["中证一千",', 'nicknames = ["宁王", "中证一千",', '"宁德", "宁王"', "underlying[300750.SZ].nicknames",
     "'宁王' already names 000852.SH"),
    ('"半年" = 6', '"半年" = 600', '"半年" = 600', "jargon.tenor.半年", "0 to 120"),
    ("patterns = ['(?<![a-z])(?:xueqiu|xq)(?![a-z])']", "patterns = ['(?:xueqiu|xq']", "(?:xueqiu|xq'",
     "jargon.structure.snowball.patterns", "is not a regular expression"),
    ("[jargon.structure.digital]", "[jargon.structure.binary]", "[jargon.structure.binary]",
     "jargon.structure.binary", "unknown structure 'binary'"),
])
def test_a_bad_entry_names_its_line_and_field(tmp_path, old, new, needle, field, message):
    p = _edited(tmp_path, old, new)
    with pytest.raises(InputError) as e:
        load_pool(p)
    assert e.value.field == field and message in str(e.value)
    assert f"{p}, line {_line(p, needle)}:" in str(e.value)


def test_bad_toml_and_a_missing_file(tmp_path, capsys):
    p = _edited(tmp_path, 'code = "000300.SH"', 'code = "000300.SH')
    with pytest.raises(InputError, match=r"not valid TOML: .*line \d+"):
        parse("中证500 雪球 103/75 1年 票息多少", pool=p)
    assert main(["rfq", "pool", "--pool", str(p)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: pool: ") and "line" in err[0]
    assert main(["rfq", "parse", "中证500 雪球", "--pool", str(tmp_path / "nope.toml")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_extra_underlyings_in_toml_and_json(tmp_path):
    t = tmp_path / "extra.toml"
    t.write_text('[[underlying]]\ncode = "000905.SH"\nnicknames = ["中盘五百"]\n', encoding="utf-8")
    j = tmp_path / "extra.json"
    j.write_text(json.dumps([{"code": "000001.SZ", "names": ["平安银行"]}], ensure_ascii=False), encoding="utf-8")
    assert parse("中盘五百 雪球 103/75 1年 票息多少", underlyings=[t])[0].underlying == "000905.SH"
    assert parse("平安银行 平值看涨 1个月 报价", underlyings=[j])[0].underlying == "000001.SZ"
    bad = tmp_path / "bad.toml"
    bad.write_text('[[underlying]]\ncode = "000905.SH"\n[jargon.tenor]\n"x" = 1\n', encoding="utf-8")
    with pytest.raises(InputError, match="holds only"):
        parse("中证500 雪球", underlyings=[bad])


def test_cli_pool_summary(capsys):
    assert main(["rfq", "pool"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"pool .*pool\.toml: \d+ underlyings", out) and "structures: snowball, phoenix" in out
    assert main(["rfq", "pool", "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["underlyings"] >= 39 and s["tenor_words"]["半年"] == 6
