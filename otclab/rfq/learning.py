"""Learning from traders: corrections of parsed fields retrain the parser's NER.

A correction gives field values, not spans: ``{"text": message, "fields": {field: corrected
value}, "parsed": {field: parsed value}}`` (the shape of
``otclab.workflows.quotes.corrections.examples``; a labelled message ``{"text", "requests"}``
is the same thing with every field of every request given). ``annotate`` turns one into NER
training entities on the normalised message: what the parser finds now (rules and model),
with each corrected value placed on a span of the text whose words parse to exactly that value
under the field's label (the surface forms of the pool for an underlying, the numbers, words
and questions of the message for the rest), and the mention of a wrong parsed value removed.
A value no span of the text parses to cannot be placed: it is skipped and counted (an
underlying the pool does not know is a pool edit, not a training example).

``retrain`` fine-tunes a model (the shipped one by default) on the placed examples, repeated,
mixed with fresh synthetic messages of the generator (``synth.py``) so that what the model knew
is not forgotten, for a few epochs on one thread: minutes at most on 2 cores, and the same
inputs and seed give the same weights.
"""
from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..core.errors import InputError
from .builder import FIELD_OF, Mention
from .normalize import normalize
from .request import FIELDS
from . import values as V

LABEL_OF = {f: label for label, f in FIELD_OF.items()}
# Number spans by what they can hold: a level or rate carries no unit of time or money ('100万' is
# no knock-out level), a tenor one of time, a notional one of money.
_UNIT_AFTER = r"(?![\d.]|\s*(?:个|月|年|周|天|万|亿|千|百|w|k|m|y|e\d))"
_NUMBER_SPANS = {
    "level": re.compile(r"(?<![\d.])" + V.NUM + r"(?:\s*(?:%|个点|bps?))?" + _UNIT_AFTER),
    "time": re.compile(r"(?<![\d.])" + V.NUM + r"\s*(?:个半月|个月|月期|月|年半|年期|年|周|天|mo|m|y)(?![a-z])|半年"),
    "money": re.compile(r"(?<![\d.])" + V.NUM + r"(?:e\d{1,2})?\s*(?:个亿|亿|kw|千万|百万|个w|万|w|mm|m)?(?![a-z\d.])"),
}
_KIND = {"TENOR": "time", "LOCKUP": "time", "NOTIONAL": "money"}


@dataclass
class Placed:
    """NER entities of one message and what could not be placed."""

    text: str  # normalised message (the NER's input)
    entities: list[tuple[int, int, str]]
    placed: list[tuple[str, object]] = field(default_factory=list)  # (field, value) put on a new span
    kept: int = 0  # corrected values the parser already had on a span
    skipped: list[tuple[str, object]] = field(default_factory=list)  # (field, value) no span parses to


def _same(a, b) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return abs(float(a) - float(b)) <= 1e-6 * max(1.0, abs(float(b)))
    return a == b


def _candidates(text: str, label: str, value, table) -> list[tuple[int, int]]:
    """Spans of ``text`` that might hold ``value`` of ``label`` (checked by the caller)."""
    if label == "UNDERLYING":
        u = table.by_code.get(value)
        if u is None:
            return []
        forms = {u.code.lower(), u.code.split(".")[0], *(normalize(x).text.strip() for x in
                                                         [*u.names, *u.nicknames, *u.pinyin, *u.bare])}
        forms |= {f.lower() for f in u.futures}
        out = []
        for f in sorted(forms, key=len, reverse=True):
            out += [(m.start(), m.end()) for m in re.finditer(re.escape(f), text)]
        return out
    if label in ("STRUCTURE", "OPTION_TYPE", "FREQ", "SOLVE"):
        j = table.jargon
        words = {"STRUCTURE": j.structure_words, "OPTION_TYPE": j.option_type_words, "FREQ": V.FREQ_WORDS,
                 "SOLVE": V.SOLVE_WORDS}[label]
        pat = words.get(value, "") if label != "SOLVE" else "|".join(words.values())
        if not pat:
            return []
        out = []
        for m in re.finditer(pat, text):
            out.append((m.start(), m.end()))
            if label == "SOLVE":  # the question around the field word: '报个价', '票息多少'
                ask = re.match(r"\s*(?:多少|几个点|几|\?|呢|能给多少|分别多少|什么水平)", text[m.end():])
                lead = re.search(r"(?:报|求|问|给)\s*(?:个|一下|下)?\s*$", text[:m.start()])
                s = lead.start() if lead else m.start()
                e = m.end() + (ask.end() if ask else 0)
                out.append((s, e))
        return out
    rx = _NUMBER_SPANS[_KIND.get(label, "level")]
    return [(m.start(), m.end()) for m in rx.finditer(text)]


def _value_of(label: str, s: int, e: int, text: str, table):
    from .pipeline import parse_value

    v = parse_value(label, text[s:e], table, text[e:e + 24], text[max(0, s - 24):s])
    if label == "SOLVE" and v == "ask":
        return None
    return v


def _matches(label: str, got, want) -> bool:
    """Whether a span's value ``got`` is the wanted value of ``label``: a field-less question
    ('多少') is whatever the builder makes of it, a moneyness strike ('虚值5%') either side."""
    if label == "SOLVE" and got == "ask":
        return True
    if label == "STRIKE" and isinstance(got, tuple) and isinstance(want, (int, float)):
        kind, x = got
        return _same(1 + x, want) or _same(1 - x, want)
    return got is not None and _same(got, want)


def annotate(text_in: str, wanted: list[dict], parsed: list[dict], table, nlp, complete: bool = False) -> Placed:
    """NER entities for one message (see module doc). ``wanted``: the corrected field values of
    its requests (one dict per request); ``parsed``: what the parser gave for them (wrong values
    lose their mention); ``complete``: ``wanted`` is every request of the message, so a model
    mention of a value none of them has is a misreading and is unlabelled too. ``nlp`` is the
    parser's pipeline (rules + the model being corrected)."""
    from .pipeline import find

    if not isinstance(text_in, str) or not text_in.strip():
        raise InputError(f"a correction needs the message text, got {text_in!r}", field="text")
    norm = normalize(text_in)
    text = norm.text
    found: list[Mention] = find(norm, table, nlp)
    ents = {(m.start, m.end): m.label for m in found}
    targets: list[tuple[str, object]] = []
    for fields in wanted:
        for f, v in fields.items():
            if f in LABEL_OF and v is not None and not any(f == g and _same(v, w) for g, w in targets):
                targets.append((f, v))
    want_keys = [(LABEL_OF[f], v) for f, v in targets]
    out = Placed(text=text, entities=[])

    def wanted_value(label, value) -> bool:
        return any(label == lab and _matches(lab, value, v) for lab, v in want_keys)
    for m in found:
        wrong = any(_same(m.value, p.get(FIELD_OF[m.label])) and not _same(p.get(FIELD_OF[m.label]),
                                                                         fields.get(FIELD_OF[m.label], p.get(FIELD_OF[m.label])))
                    for p, fields in zip(parsed, wanted))
        stray = complete and m.source == "model" and not wanted_value(m.label, m.value)
        if (wrong or stray) and not wanted_value(m.label, m.value):
            ents.pop((m.start, m.end), None)
    option_given = any(f == "option_type" for f, _ in targets)
    for f, v in targets:
        label = LABEL_OF[f]
        if any(lab == label and _matches(label, _value_of(label, s, e, text, table), v) for (s, e), lab in ents.items()):
            out.kept += 1
            continue
        spans = [(s, e) for s, e in _candidates(text, label, v, table)
                 if e > s and _matches(label, _value_of(label, s, e, text, table), v)]
        if not spans:
            if f == "structure" and v == "vanilla" and option_given:
                out.kept += 1  # 看涨/看跌 without a structure word: the builder implies the vanilla
            else:
                out.skipped.append((f, v))
            continue

        def cost(span):
            s, e = span
            overlaps = [lab for (a, b), lab in ents.items() if a < e and s < b]
            # a span the parser gave to no field first; then the shortest, then the first
            return (len(overlaps) > 0, e - s, s)
        s, e = min(spans, key=cost)
        for key in [k for k in ents if k[0] < e and s < k[1]]:
            del ents[key]
        ents[(s, e)] = label
        out.placed.append((f, v))
    out.entities = sorted((s, e, lab) for (s, e), lab in ents.items())
    return out


def labelled_to_corrections(rows: list[dict]) -> list[dict]:
    """Labelled messages ``{"text", "requests": [...]}`` as corrections: every field of every
    request given, and ``complete`` (the message asks for these requests and no other)."""
    out = []
    for row in rows:
        for req in row.get("requests", []):
            out.append({"text": row["text"], "fields": {k: v for k, v in req.items() if k in FIELDS},
                        "parsed": {}, "complete": True})
    return out


def read_jsonl(path: str | Path, what: str) -> list[dict]:
    """Rows of a JSONL file; InputError naming the file and line for a bad one."""
    p = Path(path)
    try:
        lines = p.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {what} file {p}: {exc}", field=what) from exc
    rows = []
    for i, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as exc:
            raise InputError(f"{p}, line {i}: not JSON ({exc.msg})", field=what) from exc
        if not isinstance(row, dict) or not isinstance(row.get("text"), str):
            raise InputError(f"{p}, line {i}: expected an object with 'text'", field=what)
        if what == "corrections" and not isinstance(row.get("fields"), dict):
            raise InputError(f"{p}, line {i}: a correction needs 'fields': {{field: corrected value}}", field=what)
        if what != "corrections" and not isinstance(row.get("requests"), list):
            raise InputError(f"{p}, line {i}: a labelled message needs 'requests': [...]", field=what)
        rows.append(row)
    return rows


@dataclass
class TrainReport:
    """What a retraining run used and produced."""

    out_dir: str
    corrections: int
    messages: int
    placed: int
    kept: int
    skipped: list[tuple[str, str, object]]  # (text, field, value)
    synthetic: int
    epochs: int
    seed: int
    losses: list[float]


def retrain(out_dir: str | Path, corrections: list[dict], *, base_model: str | Path | None = None,
            pool: str | Path | None = None, seed: int = 0, epochs: int = 6, repeat: int = 4,
            synthetic: int = 300, dropout: float = 0.1, log=print) -> TrainReport:
    """Fine-tune the NER at ``base_model`` (the shipped one if None) on ``corrections`` and save it
    to ``out_dir`` (a model directory for OTCLAB_RFQ_MODEL / ``parse(model=...)``).

    Each message is annotated once (``annotate``, merging the corrections of one message),
    repeated ``repeat`` times per epoch among ``synthetic`` fresh generator messages (seed
    ``seed + 7919``, not the shipped model's training seed), ``epochs`` passes in a seeded
    order."""
    import spacy
    from spacy.training import Example
    from spacy.util import fix_random_seed, minibatch

    from .pipeline import load_pipeline, model_path
    from .synth import generate
    from .underlyings import load_underlyings

    fix_random_seed(seed)
    rng = random.Random(seed)
    table = load_underlyings((), pool)
    base = Path(base_model) if base_model else model_path()
    parser_nlp = load_pipeline(str(base), True)
    # one annotation per message: the corrections of all its requests together
    by_text: dict[str, dict] = {}
    for c in corrections:
        if not isinstance(c, dict) or not isinstance(c.get("text"), str) or not isinstance(c.get("fields"), dict):
            raise InputError(f"a correction must be an object with 'text' and 'fields', got {c!r}"[:300],
                             field="corrections")
        slot = by_text.setdefault(c["text"], {"wanted": [], "parsed": [], "complete": True})
        parsed = c.get("parsed") or {}
        # a trader's correction: the request is what was parsed with the corrected fields replaced;
        # other requests of the message may exist, so the model's other mentions are not judged
        slot["wanted"].append({**parsed, **c["fields"]} if parsed else dict(c["fields"]))
        slot["parsed"].append(parsed)
        slot["complete"] &= bool(c.get("complete", False))
    nlp = spacy.load(base)
    train: list = []
    placed = kept = 0
    skipped: list[tuple[str, str, object]] = []
    for text, slot in by_text.items():
        p = annotate(text, slot["wanted"], slot["parsed"], table, parser_nlp, slot["complete"])
        placed += len(p.placed)
        kept += p.kept
        skipped += [(text, f, v) for f, v in p.skipped]
        doc = nlp.make_doc(p.text)
        spans = [(s, e, lab) for s, e, lab in p.entities if doc.char_span(s, e) is not None]
        train.append(Example.from_dict(doc, {"entities": spans}))
    synth = []
    for text, ents in generate(synthetic, seed + 7919):
        doc = nlp.make_doc(text)
        synth.append(Example.from_dict(doc, {"entities": [(s, e, l) for s, e, l in ents
                                                           if doc.char_span(s, e) is not None]}))
    optimizer = nlp.resume_training()
    losses_per_epoch = []
    for epoch in range(epochs):
        batch_pool = train * repeat + synth
        rng.shuffle(batch_pool)
        losses: dict = {}
        for batch in minibatch(batch_pool, size=16):
            nlp.update(batch, sgd=optimizer, drop=dropout, losses=losses)
        losses_per_epoch.append(round(float(losses.get("ner", 0.0)), 2))
        log(f"epoch {epoch + 1}/{epochs} ner loss {losses_per_epoch[-1]:.1f}")
    out = Path(out_dir)
    nlp.meta["name"] = "otclab_rfq_ner"
    nlp.meta["description"] = (f"RFQ chat NER fine-tuned on {len(by_text)} corrected messages from {base} "
                               f"(seed={seed}, epochs={epochs})")
    nlp.to_disk(out)
    (out / "training.json").write_text(json.dumps({
        "base_model": str(base), "seed": seed, "epochs": epochs, "repeat": repeat, "synthetic": synthetic,
        "dropout": dropout, "spacy": spacy.__version__, "messages": len(by_text), "corrections": len(corrections),
        "placed": placed, "kept": kept, "skipped": len(skipped), "losses": losses_per_epoch}, indent=1))
    return TrainReport(out_dir=str(out), corrections=len(corrections), messages=len(by_text), placed=placed,
                       kept=kept, skipped=skipped, synthetic=synthetic, epochs=epochs, seed=seed,
                       losses=losses_per_epoch)
