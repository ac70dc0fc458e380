"""User-extendable underlyings and the ``otclab rfq parse`` command."""
import json

import pytest

from otclab.cli.main import main
from otclab.core.errors import InputError
from otclab.rfq import parse
from otclab.rfq.underlyings import load_underlyings


def test_builtin_table_has_the_required_codes():
    t = load_underlyings()
    for code in ["000905.SH", "000852.SH", "000300.SH", "000016.SH", "000688.SH", "399006.SZ", "932000.CSI",
                 "510300.SH", "510500.SH", "510050.SH", "588000.SH", "159915.SZ", "600519.SH", "300750.SZ",
                 "601318.SH", "000858.SZ", "600036.SH"]:
        assert code in t.by_code
    assert t.lookup("ZZ500") == "000905.SH" and t.lookup("IC2412") == "000905.SH" and t.lookup("300etf") == "510300.SH"


def test_extra_underlyings_by_argument_and_env(tmp_path, monkeypatch):
    extra = tmp_path / "mine.json"
    extra.write_text(json.dumps({"underlyings": [
        {"code": "000001.SZ", "names": ["平安银行"], "aliases": ["pab"]},
        {"code": "000905.SH", "aliases": ["小盘五百"]},
    ]}, ensure_ascii=False), encoding="utf-8")
    assert parse("平安银行 平值看涨 1个月 报价") == [] or parse("平安银行 平值看涨 1个月 报价")[0].underlying != "000001.SZ"
    (r,) = parse("平安银行 平值看涨 1个月 报价", underlyings=[extra])
    assert r.underlying == "000001.SZ"
    monkeypatch.setenv("OTCLAB_RFQ_UNDERLYINGS", str(extra))
    (r,) = parse("小盘五百 雪球 103/75 1年 票息多少")
    assert r.underlying == "000905.SH"


def test_bad_underlyings_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('[{"code": "XYZ"}]')
    with pytest.raises(InputError, match="code"):
        parse("中证500 雪球", underlyings=[bad])


def test_cli_json(capsys):
    assert main(["rfq", "parse", "1000雪球 100/70 两年 月度降敲0.5% 报个票息", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out == [{"underlying": "000852.SH", "structure": "snowball", "tenor_months": 24, "ko_barrier": 1.0,
                    "ki_barrier": 0.7, "ko_step_down": 0.005, "solve_for": "coupon"}]


def test_cli_meta_and_stdin(capsys, monkeypatch):
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO("茅台 平值看跌 2个月 多少钱".encode())))
    assert main(["rfq", "parse", "-", "--json", "--meta"]) == 0
    (req,) = json.loads(capsys.readouterr().out)
    assert req["underlying"] == "600519.SH" and req["spans"]["underlying"] == [0, 2]
    assert req["confidence"]["strike"] == 1.0


def test_cli_bad_stdin_exits_2(capsys, monkeypatch):
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"\xff\xfe\x00garbage")))
    assert main(["rfq", "parse", "-", "--json"]) == 2
    assert "not UTF-8" in capsys.readouterr().err
