"""The spaCy pipeline: blank Chinese (character segmenter) + rule component + trained NER.

``rfq_rules`` writes the mentions the rules are sure of into ``doc.ents`` and leaves every other
character unannotated; the NER shipped in ``otclab/rfq/data/ner`` then labels the rest (spaCy's NER
keeps preset entities and predicts around them). Model mentions get a confidence from a small
beam search (the summed probability of the beam parses containing the entity) and are kept only
if their text parses to a valid value.
"""
from __future__ import annotations

import os
import re
from functools import lru_cache
from importlib import resources
from pathlib import Path

from .builder import Mention
from .normalize import Normalized
from .rules import find_mentions, list_markers, rule_set
from .underlyings import UnderlyingTable
from . import values as V

MODEL_ENV = "OTCLAB_RFQ_MODEL"  # alternative model directory (e.g. a freshly trained one)
BEAM_WIDTH = 8
LONG_DOC = 1000  # characters; beyond this the confidence beam narrows to bound the work per message
MIN_MODEL_CONFIDENCE = 0.5


def model_path() -> Path:
    """Directory of the NER model: $OTCLAB_RFQ_MODEL or the one shipped in the package."""
    env = os.environ.get(MODEL_ENV)
    if env:
        return Path(env)
    return Path(str(resources.files("otclab.rfq").joinpath("data/ner")))


def _register() -> None:
    from spacy.language import Language

    if "rfq_rules" in Language.factories:
        return

    @Language.factory("rfq_rules", default_config={})
    def make_rules(nlp, name):
        return RuleComponent()


class RuleComponent:
    """spaCy component: sets the rule mentions as preset entities (others stay unannotated)."""

    def __call__(self, doc):
        table = doc.user_data.get("rfq_table")
        norm = doc.user_data.get("rfq_norm")
        if table is None or norm is None:
            return doc
        spans = []
        for label, s, e in find_mentions(doc.text, norm.original, norm.origin, table):
            span = doc.char_span(s, e, label=label, alignment_mode="contract")
            if span is not None and len(span):
                spans.append(span)
        taken = [(s.start_char, s.end_char) for s in spans]
        # list item numbers are explicitly outside any entity, so the NER cannot read '2)' as a level
        outside = [doc.char_span(s, e, alignment_mode="contract") for s, e in list_markers(doc.text)
                   if not any(s < b and a < e for a, b in taken)]
        doc.set_ents(spans, outside=[o for o in outside if o is not None and len(o)], default="unmodified")
        doc.spans["rfq_rules"] = spans
        return doc


@lru_cache(maxsize=4)
def load_pipeline(path: str | None = None, use_model: bool = True):
    """blank('zh') + rfq_rules (+ the NER at ``path`` or the shipped one when ``use_model``)."""
    import spacy

    _register()
    nlp = spacy.blank("zh")
    if use_model:
        p = Path(path) if path else model_path()
        trained = spacy.load(p)
        nlp.add_pipe("ner", source=trained)
    nlp.add_pipe("rfq_rules", first=True)
    return nlp


_LIST_UNIT = re.compile(r"^(?:\s*[/、,和]\s*\d+(?:\.\d+)?)*\s*(个月|月|m|年|y)(?![a-z])")


def parse_value(label: str, text: str, table: UnderlyingTable, after: str = "", before: str = ""):
    """Value of a mention of ``label`` whose normalised text is ``text`` (None if none);
    ``after`` is the text that follows (a tenor list '1/3/6个月' gives its unit to every number),
    ``before`` the text before it (a moneyness list '虚值5%/10%' gives its keyword to '10%')."""
    if label == "UNDERLYING":
        return table.lookup(text)
    if label in ("KO", "KI", "BARRIER", "COUPON_BARRIER"):
        return V.level(text)
    if label == "STRIKE":
        rs = rule_set(table.jargon)
        m = rs.moneyness_list_before.search(before) if re.fullmatch(r"\d+(?:\.\d+)?\s*%?", text) else None
        return V.strike(m.group(1) + text, table.jargon) if m else V.strike(text, table.jargon)
    if label in ("COUPON", "REBATE"):
        return V.rate(text, upper=1.0)
    if label == "PARTICIPATION":
        return V.rate(text, upper=5.0)
    if label == "NOTIONAL":
        return V.amount(text)
    if label == "TENOR":
        named = table.jargon.tenor_months(text)  # a tenor word of the pool ('半年', '一个季度')
        if named is not None:
            return int(named) if float(named).is_integer() else named
        m = _LIST_UNIT.match(after) if re.fullmatch(r"\d+(?:\.\d+)?", text) else None
        return V.months(text + m.group(1)) if m else V.months(text)
    if label == "LOCKUP":  # '锁3' counts months
        return V.months(text) or V.bare_months(text)
    if label == "STEP_DOWN":
        return V.step_down(text)
    if label == "STRUCTURE":
        return V.keyword_at(text, table.jargon.structure_words, after)
    if label == "OPTION_TYPE":
        return V.keyword_at(text, table.jargon.option_type_words, after)
    if label == "FREQ":
        return V.keyword_at(text, V.FREQ_WORDS, after)
    if label == "SOLVE":  # a question holds no number ('期权费1%' states a premium)
        return None if re.search(r"\d", text) else V.keyword(text, V.SOLVE_WORDS)
    return None


_JUDGEMENT = re.compile(r"太|偏|低了|高了|贵|便宜|不错|可以|满意|接受|ok(?![a-z])")


def _cuts_a_word(text: str, start: int, end: int) -> bool:
    """Whether [start, end) begins or ends inside a run of ASCII letters and digits (a model
    entity that splits 'a500' or 'ic2412' is a misreading)."""
    def word(ch: str) -> bool:
        return ch.isascii() and ch.isalnum()
    return (start > 0 and word(text[start - 1]) and word(text[start])) or (
        end < len(text) and word(text[end - 1]) and word(text[end]))


def find(norm: Normalized, table: UnderlyingTable, nlp) -> list[Mention]:
    """Mentions in the normalised message: rule ones (confidence 1) and model ones."""
    text = norm.text  # doc.text rebuilds the string on every access: read it once
    doc = nlp.make_doc(text)
    doc.user_data["rfq_table"] = table
    doc.user_data["rfq_norm"] = norm
    ruled = nlp.get_pipe("rfq_rules")(doc)
    rule_keys = {(s.start_char, s.end_char, s.label_) for s in ruled.spans["rfq_rules"]}
    out: list[Mention] = []
    model_spans = []
    if "ner" in nlp.pipe_names:
        ner = nlp.get_pipe("ner")
        preset = ruled.copy()
        ruled = ner(ruled)
        model_spans = [e for e in ruled.ents if (e.start_char, e.end_char, e.label_) not in rule_keys]
        if model_spans:
            scores = ner.scored_ents(ner.beam_parse([preset], beam_width=BEAM_WIDTH if len(preset) <= LONG_DOC else 2))[0]
    for e in ruled.ents if "ner" in nlp.pipe_names else ruled.spans["rfq_rules"]:
        key = (e.start_char, e.end_char, e.label_)
        value = parse_value(e.label_, e.text, table, text[e.end_char:e.end_char + 24],
                            text[max(0, e.start_char - 24):e.start_char])
        if value is None:
            continue
        if key in rule_keys:
            out.append(Mention(e.label_, e.start_char, e.end_char, value, 1.0, "rule"))
        elif _cuts_a_word(text, e.start_char, e.end_char):
            continue  # '500' inside 'a500': part of a code the table does not know
        elif e.label_ == "SOLVE" and _JUDGEMENT.search(text[e.start_char:e.end_char + 3]):
            continue  # '票息太低' judges a quote, it does not ask for one
        else:
            conf = float(scores.get((e.start, e.end, e.label_), 0.0))
            if conf >= MIN_MODEL_CONFIDENCE:
                out.append(Mention(e.label_, e.start_char, e.end_char, value, conf, "model"))
    return out
