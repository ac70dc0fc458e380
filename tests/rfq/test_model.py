"""The shipped NER: loads offline, fills what rules leave open, and training is reproducible."""
from pathlib import Path

from otclab.rfq import parse
from otclab.rfq.pipeline import model_path


def test_shipped_model_is_small_and_loads():
    p = model_path()
    size = sum(f.stat().st_size for f in Path(p).rglob("*") if f.is_file())
    assert size < 8 * 2**20
    import spacy

    nlp = spacy.load(p)
    assert nlp.pipe_names == ["ner"] and "KO" in nlp.get_pipe("ner").labels


def test_model_labels_bare_levels_the_rules_leave_open():
    text = "500 雪球 103 75 一年 票息多少"
    assert parse(text, use_model=False)[0].ko_barrier is None
    (r,) = parse(text)
    assert (r.ko_barrier, r.ki_barrier) == (1.03, 0.75)
    assert 0.5 <= r.confidence["ko_barrier"] <= 1.0
    assert text[slice(*r.spans["ko_barrier"])] == "103"


def test_training_is_reproducible_from_a_seed(tmp_path):
    from otclab.rfq.training import train_ner

    a = train_ner(None, seed=7, n=60, epochs=1, log=lambda *_: None).get_pipe("ner").to_bytes()
    b = train_ner(None, seed=7, n=60, epochs=1, log=lambda *_: None).get_pipe("ner").to_bytes()
    c = train_ner(None, seed=8, n=60, epochs=1, log=lambda *_: None).get_pipe("ner").to_bytes()
    assert a == b and a != c
