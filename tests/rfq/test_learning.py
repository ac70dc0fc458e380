"""Learning from traders (issue 14, part 5): the new message classes, corrections placed on spans,
and a real (tiny) retraining that changes the model's output on held-out messages."""
import json
from pathlib import Path

import pytest

from otclab.cli.main import main
from otclab.core.errors import InputError
from otclab.rfq import parse
from otclab.rfq.learning import annotate, labelled_to_corrections, read_jsonl, retrain
from otclab.rfq.metrics import Score
from otclab.rfq.pipeline import load_pipeline
from otclab.rfq.underlyings import load_underlyings

DATA = Path(__file__).parent / "data"


def load(name: str) -> list[dict]:
    return [json.loads(l) for l in (DATA / name).read_text(encoding="utf-8").splitlines() if l.strip()]


TRAIN = load("learning_train.jsonl")
HELDOUT = load("learning_heldout.jsonl")
CLASSES = {"paired_list", "refer_back", "shared_fields", "nickname_list", "stated_coupon", "nickname_question"}
# What is left to training: a bare number whose role only its place tells (a strike after the
# tenor, 'IF 看涨 1个月 103'; a coupon without its keyword, '100/70 15% 两年 期权费多少').
STATISTICAL = {
    "IF 看涨 1个月 103，看跌 2个月 97 报个价", "上证50 看跌 3个月 95，看涨 6个月 108 价格多少",
    "中证1000 雪球 100/70 15% 两年 期权费多少", "沪深300 雪球 100/75 一年 18% 价格多少", "IC 雪球 105/70 两年 16% 报价",
    "IC 看涨 2个月 104，看跌 4个月 96 报价", "茅台 看涨 1个月 102，看跌 3个月 98 多少钱", "IM 看跌 1个月 97，看涨 2个月 103 报个价",
    "500 雪球 100/75 两年 12% 期权费多少", "IM 雪球 103/70 1年 20% 报价", "中证1000 雪球 105/75 18个月 14% 价格多少",
    "上证50 雪球 100/80 一年 10% 多少钱",
}


def test_sets_are_new_split_and_cover_every_class():
    older = {r["text"] for name in ("rfq_examples.jsonl", "handwritten.jsonl", "heldout.jsonl", "blind2.jsonl")
             for r in load(name)}
    shared = DATA.parents[2].parent / "shared" / "examples" / "rfq_examples.jsonl"
    if shared.exists():
        older |= {json.loads(l)["text"] for l in shared.read_text(encoding="utf-8").splitlines() if l.strip()}
    train, held = {r["text"] for r in TRAIN}, {r["text"] for r in HELDOUT}
    assert not train & held and not (train | held) & older
    assert {r["class"] for r in TRAIN} == CLASSES == {r["class"] for r in HELDOUT}
    assert len(TRAIN) >= 30 and len(HELDOUT) >= 30


@pytest.mark.parametrize("row", [r for r in TRAIN + HELDOUT if r["text"] not in STATISTICAL],
                         ids=lambda r: r["class"])
def test_rule_fixed_classes_parse_exactly(row):
    got = [r.to_dict() for r in parse(row["text"])]
    assert Score().add(got, row["requests"]), (got, row["requests"])


def test_each_rule_fix_on_its_own():
    got = parse("中证500 看涨105 看跌95 3个月 报价")  # two requests, not four
    assert [(r.option_type, r.strike) for r in got] == [("call", 1.05), ("put", 0.95)]
    got = parse("看涨看跌 中证500 1M/3M 平值 报价")  # lists that do not alternate are still crossed
    assert len(got) == 4
    got = parse("沪深300 凤凰 100/75 派息75 1年 票息多少，创业板照这个结构来一个")
    assert [r.underlying for r in got] == ["000300.SH", "399006.SZ"] and got[1].coupon_barrier == 0.75
    got = parse("中证500 1年 中证1000 2年 都是雪球 103/75 锁3个月 票息")
    assert [(r.tenor_months, r.structure, r.lockup_months) for r in got] == [(12, "snowball", 3), (24, "snowball", 3)]
    assert [r.underlying for r in parse("五百和一千的雪球 103/75 一年 票息多少")] == ["000905.SH", "000852.SH"]
    (r,) = parse("500 雪球 103/75 1年 给票息15% 多少钱")
    assert (r.coupon, r.solve_for) == (0.15, "price")
    (r,) = parse("茅子 平值看跌 两个月 多少钱?")
    assert r.underlying == "600519.SH"
    (r,) = parse("中证1000 凤凰 100/70 派息70 一年 年化15个点 报价")  # 个点 is a percent
    assert (r.coupon, r.solve_for) == (0.15, "price")
    assert parse("创业板 鲨鱼鳍 看涨 障碍110 参与率80个点 3个月 报价")[0].participation == 0.8


def test_a_correction_is_placed_on_the_span_that_reads_as_its_value():
    table, nlp = load_underlyings(), load_pipeline(None, True)
    text = "中证1000 雪球 100/70 两年 12% 期权费多少"
    p = annotate(text, [{"coupon": 0.12}], [{}], table, nlp)
    assert p.placed == [("coupon", 0.12)] and not p.skipped
    (s, e, label), = [x for x in p.entities if x[2] == "COUPON"]
    assert p.text[s:e] == "12%"
    # a wrong value loses its mention: the trader says 97 is the strike, not a knock-out level
    p = annotate("IF 看涨 2个月 97 报价", [{"strike": 0.97}], [{"ko_barrier": 0.97}], table, nlp)
    assert ("STRIKE" in {lab for _, _, lab in p.entities}) and "KO" not in {lab for _, _, lab in p.entities}
    # a value no span reads as (an underlying the pool does not know) is skipped and counted
    p = annotate("恒生科技 雪球 103/75 1年 票息多少", [{"underlying": "000001.SZ", "coupon": 0.2}], [{}], table, nlp)
    assert p.skipped == [("underlying", "000001.SZ"), ("coupon", 0.2)]


def test_training_on_corrections_changes_the_model_on_held_out_messages(tmp_path):
    wrong = [r for r in HELDOUT if r["class"] == "stated_coupon" and r["text"] in STATISTICAL]
    assert wrong and all(parse(r["text"])[0].coupon is None for r in wrong)  # the shipped model misses them
    rows = [r for r in TRAIN if r["class"] == "stated_coupon"]
    out = tmp_path / "model"
    rep = retrain(out, labelled_to_corrections(rows), epochs=4, repeat=4, synthetic=40, seed=0, log=lambda *_: None)
    assert rep.messages == len(rows) and rep.placed >= 4 and not rep.skipped
    assert json.loads((out / "training.json").read_text())["messages"] == len(rows)
    for r in wrong:  # never trained on
        got = [x.to_dict() for x in parse(r["text"], model=str(out))]
        assert Score().add(got, r["requests"]), (r["text"], got)
    # and what the shipped model got right stays right
    for r in [r for r in HELDOUT if r["text"] not in STATISTICAL][:8]:
        assert Score().add([x.to_dict() for x in parse(r["text"], model=str(out))], r["requests"]), r["text"]


def test_cli_train_from_a_corrections_file(tmp_path, capsys):
    corr = tmp_path / "corrections.jsonl"
    corr.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in [
        {"text": "500 雪球 100/75 两年 12% 期权费多少", "fields": {"coupon": 0.12}, "parsed": {"coupon": None},
         "quote_id": "q1", "corrected_by": "li.na"},
        {"text": "恒生科技 雪球 103/75 1年 票息多少", "fields": {"underlying": "000001.SZ"}, "parsed": {},
         "quote_id": "q2", "corrected_by": "li.na"},
    ]), encoding="utf-8")
    out = tmp_path / "m"
    assert main(["rfq", "train", "--corrections", str(corr), "--no-train-set", "--out", str(out), "--epochs", "1",
                 "--synthetic", "10", "--repeat", "1"]) == 0
    printed = capsys.readouterr().out
    assert f"training on {corr}: 2 corrected requests" in printed
    assert "2 messages: 1 corrected values placed on a span" in printed and "1 could not be placed" in printed
    assert "skipped underlying='000001.SZ'" in printed and f"OTCLAB_RFQ_MODEL={out}" in printed
    assert (out / "meta.json").exists() and main(["rfq", "parse", "中证500 雪球 103/75 1年 票息多少", "--model", str(out)]) == 0
    # a non-empty output folder is not replaced without --force
    assert main(["rfq", "train", "--corrections", str(corr), "--no-train-set", "--out", str(out)]) == 2
    assert "--force" in capsys.readouterr().err


def test_cli_train_reads_the_store_and_refuses_an_empty_one(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'q.db'}"
    assert main(["rfq", "train", "--store", url, "--no-train-set", "--out", str(tmp_path / "m")]) == 2
    assert "nothing to train on" in capsys.readouterr().err


def test_bad_corrections_file_is_one_clear_error(tmp_path, capsys):
    bad = tmp_path / "c.jsonl"
    bad.write_text('{"text": "500 雪球", "fields": {"coupon": 0.1}}\n{"text": "x"}\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"line 2: a correction needs 'fields'"):
        read_jsonl(bad, "corrections")
    assert main(["rfq", "train", "--corrections", str(bad), "--out", str(tmp_path / "m")]) == 2
    assert "line 2" in capsys.readouterr().err


def test_a_level_is_not_placed_on_an_amount():
    p = annotate("中证500 雪球 敲出103 敲入80 1年 名本100万 票息多少", [{"ko_barrier": 1.0}], [{"ko_barrier": 1.03}],
                 load_underlyings(), load_pipeline(None, True))
    assert p.skipped == [("ko_barrier", 1.0)] and ("NOTIONAL" in {lab for _, _, lab in p.entities})


def test_retraining_is_deterministic(tmp_path):
    rows = labelled_to_corrections([r for r in TRAIN if r["class"] == "paired_list"][:3])
    a = retrain(tmp_path / "a", rows, epochs=1, repeat=1, synthetic=10, seed=3, log=lambda *_: None)
    b = retrain(tmp_path / "b", rows, epochs=1, repeat=1, synthetic=10, seed=3, log=lambda *_: None)
    assert a.losses == b.losses
    assert (tmp_path / "a" / "ner" / "model").read_bytes() == (tmp_path / "b" / "ner" / "model").read_bytes()


def test_cli_train_from_the_quote_store(tmp_path, capsys):
    """A trader's correction in the quote workflow's store (Q's service, SQLite) is read by
    ``rfq train --store``; values the message does not hold are skipped and counted."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("_quotes_support", DATA.parents[1] / "quotes" / "quotes_support.py")
    qs = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(qs)
    from otclab.store.db import open_store
    from otclab.workflows.quotes import service
    from otclab.workflows.quotes.config import QuoteConfig

    url = f"sqlite:///{tmp_path / 'quotes.db'}"
    st = open_store(url)
    qs.seed_store(st)
    service.configure(QuoteConfig(token=qs.TOKEN, encoding_aes_key=qs.AES_KEY,
                                  webhook_url="http://127.0.0.1:9/cgi-bin/webhook/send?key=unused",
                                  evidence_log=str(tmp_path / "evidence.sqlite")))
    try:
        text = "中证500 雪球 12个月 敲出103 敲入80 票息多少 (客户可以接受敲入75)"  # two requests: KI 80 and 75
        assert service.receive(st, qs.inbound(text)) and service.process_pending(st) == 1
        q = next(q for q in service.list_quotes(st) if service.get_quote(st, q["quote_id"])["fields"]["ki_barrier"] == 0.8)
        q = service.edit_quote(st, q["quote_id"], "ki_barrier", 0.75, "li.na")   # a value the message holds
        service.edit_quote(st, q["quote_id"], "tenor_months", 6, "li.na")          # one it does not
    finally:
        service.configure(None)
    out = tmp_path / "m"
    assert main(["rfq", "train", "--store", url, "--no-train-set", "--out", str(out), "--epochs", "1",
                 "--synthetic", "10", "--repeat", "1"]) == 0
    printed = capsys.readouterr().out
    assert f"training on store {url}: 1 corrected requests" in printed
    assert "1 messages: 0 corrected values placed on a span, 1 already right, 1 could not be placed" in printed
    assert "skipped tenor_months=6" in printed and (out / "training.json").exists()
