"""Training of the RFQ NER from synthetic data (used by pipelines/rfq_train.py and a smoke test).

The model is a spaCy transition-based NER over single characters (blank('zh'), char segmenter)
with a small CNN encoder (width 64, depth 4, window 2: each character sees 8 neighbours on each
side), trained on ``synth.generate(n, seed)``. Same seed, same data, same weights (thinc's and
numpy's RNGs are seeded through spacy.util.fix_random_seed; training runs on one CPU thread).
"""
from __future__ import annotations

import json
import random
from pathlib import Path

from .rules import LABELS
from .synth import generate

NER_CONFIG = {
    "model": {
        "@architectures": "spacy.TransitionBasedParser.v2",
        "state_type": "ner",
        "extra_state_tokens": False,
        "hidden_width": 64,
        "maxout_pieces": 2,
        "use_upper": True,
        "nO": None,
        "tok2vec": {
            "@architectures": "spacy.HashEmbedCNN.v2",
            "pretrained_vectors": None,
            "width": 64,
            "depth": 4,
            "embed_size": 1500,
            "window_size": 2,
            "maxout_pieces": 3,
            "subword_features": False,
        },
    }
}


def train_ner(out_dir: str | Path | None, *, seed: int = 0, n: int = 4000, epochs: int = 12,
              dropout: float = 0.2, log=print):
    """Train the NER on ``n`` synthetic messages for ``epochs`` passes; save to ``out_dir``
    (unless None) and return the spaCy pipeline. Losses are logged once per epoch."""
    import spacy
    from spacy.training import Example
    from spacy.util import fix_random_seed, minibatch

    fix_random_seed(seed)
    rng = random.Random(seed)
    nlp = spacy.blank("zh")
    ner = nlp.add_pipe("ner", config=NER_CONFIG)
    for label in LABELS:
        ner.add_label(label)
    data = generate(n, seed)
    examples = []
    for text, ents in data:
        doc = nlp.make_doc(text)
        spans = [(s, e, l) for s, e, l in ents if doc.char_span(s, e) is not None]
        examples.append(Example.from_dict(doc, {"entities": spans}))
    optimizer = nlp.initialize(lambda: examples)
    for epoch in range(epochs):
        rng.shuffle(examples)
        losses: dict = {}
        for batch in minibatch(examples, size=32):
            nlp.update(batch, sgd=optimizer, drop=dropout, losses=losses)
        log(f"epoch {epoch + 1}/{epochs} ner loss {losses.get('ner', 0.0):.1f}")
    nlp.meta["name"] = "otclab_rfq_ner"
    nlp.meta["version"] = "1.0.0"
    nlp.meta["description"] = f"RFQ chat NER trained on synthetic data: seed={seed} n={n} epochs={epochs}"
    nlp.meta["spacy_version"] = f">={spacy.__version__.rsplit('.', 1)[0]},<3.9"
    if out_dir is not None:
        out = Path(out_dir)
        nlp.to_disk(out)
        (out / "training.json").write_text(json.dumps(
            {"seed": seed, "n": n, "epochs": epochs, "dropout": dropout, "spacy": spacy.__version__}, indent=1))
    return nlp


def evaluate_ner(model_dir: str | Path, *, seed: int = 1000, n: int = 500) -> dict:
    """Entity precision/recall/F1 of the NER alone (no rules) on fresh synthetic messages
    (a seed not used for training): how well the model learned the generator's language."""
    import spacy
    from spacy.training import Example

    nlp = spacy.load(model_dir)
    examples = []
    for text, ents in generate(n, seed):
        doc = nlp.make_doc(text)
        spans = [(s, e, l) for s, e, l in ents if doc.char_span(s, e) is not None]
        examples.append(Example.from_dict(doc, {"entities": spans}))
    scores = nlp.evaluate(examples)
    return {"ents_p": scores["ents_p"], "ents_r": scores["ents_r"], "ents_f": scores["ents_f"],
            "per_type": scores["ents_per_type"]}
