"""Property-based fuzzing of the readers of outside input: proofs, checkpoints and envelopes.

Every example is random bytes, random JSON, or a genuine document mutated (a value replaced by
random JSON, a key dropped or added, a number nudged, a character of a string changed, a byte
flipped, the text cut short). The property: a clear ``OtcError`` or a correct answer, never any
other exception, and never a non-finite number in the output. "Correct" is checked against the
truth: a proof or checkpoint that verifies says exactly what the log holds, an envelope that
opens gives back the content and header that were sealed.

Reproducible in CI: ``derandomize=True`` (the examples are a function of the test) and no example
database. Example counts (``max_examples``), also listed in docs/esign.md:

- ``test_proof_reader_api``: 400; ``test_proof_reader_cli``: 150 (through ``otclab evidence verify``)
- ``test_checkpoint_reader``: 300
- ``test_envelope_reader``: 300
"""
from __future__ import annotations

import contextlib
import copy
import datetime as dt
import io
import json

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from otclab.cli.main import main
from otclab.esign.canonical import canonical_json
from otclab.esign.errors import OtcError
from otclab.esign.evidence import Checkpoint, EvidenceLog

N_PROOF_API, N_PROOF_CLI, N_CHECKPOINT, N_ENVELOPE = 400, 150, 300, 300


def fuzz_settings(n: int):
    return settings(max_examples=n, derandomize=True, database=None, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=8,
)
DEEP = b'{"a":' * 5000 + b"1" + b"}" * 5000


def dumps(obj, canonical: bool) -> bytes:
    if canonical:
        return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=True).encode()
    return json.dumps(obj, indent=1, allow_nan=True).encode()


@st.composite
def mutated(draw, genuine: dict, canonical: bool, nested: tuple[str, ...] = ()) -> bytes:
    """A genuine document with one to three mutations, or its text with a byte flipped / cut."""
    if draw(st.integers(0, 4)) == 0:
        text = bytearray(dumps(genuine, canonical))
        if draw(st.booleans()):
            text[draw(st.integers(0, len(text) - 1))] ^= 1 << draw(st.integers(0, 7))
            return bytes(text)
        return bytes(text[: draw(st.integers(0, len(text) - 1))])
    doc = copy.deepcopy(genuine)
    for _ in range(draw(st.integers(1, 3))):
        box = doc
        for key in nested:
            if draw(st.booleans()) and isinstance(box.get(key), dict):
                box = box[key]
        keys = sorted(box)
        op = draw(st.sampled_from(["replace", "drop", "add", "nudge"] if keys else ["add"]))
        if op == "add":
            box[draw(st.text(max_size=8))] = draw(JSON)
            continue
        k = draw(st.sampled_from(keys))
        if op == "replace":
            box[k] = draw(JSON)
        elif op == "drop":
            del box[k]
        else:
            v = box[k]
            if isinstance(v, bool) or v is None:
                box[k] = draw(JSON)
            elif isinstance(v, int):
                box[k] = v + draw(st.integers(-3, 3))
            elif isinstance(v, str) and v:
                i = draw(st.integers(0, len(v) - 1))
                box[k] = v[:i] + draw(st.characters(codec="utf-8")) + v[i + 1:]
            elif isinstance(v, list) and v:
                i = draw(st.integers(0, len(v) - 1))
                box[k] = v[:i] + [draw(JSON)] + v[i + 1:] if draw(st.booleans()) else v + v[i:i + 1]
            else:
                box[k] = draw(JSON)
    return dumps(doc, canonical)


def no_non_finite(obj) -> None:
    """The output is plain JSON: serialising it with allow_nan=False must not fail."""
    json.dumps(obj, allow_nan=False, default=str)


# ---- fixtures: one small log with a checkpoint, built once -------------------------------------

N_LOG = 13


@pytest.fixture(scope="module")
def world(tmp_path_factory, pki):
    d = tmp_path_factory.mktemp("fuzz")
    path = d / "log.sqlite"
    with EvidenceLog(path) as lg:
        lg.append_many([("note", {"i": i}) for i in range(N_LOG)])
        cp = lg.checkpoint(pki.parties["dealer"].signer())
        truth = [lg.entry(i) for i in range(N_LOG)]
        proofs = [lg.prove_inclusion(5), lg.prove_inclusion(12, size=13), lg.prove_inclusion(0, size=1)]
        cons = [lg.prove_consistency(5), lg.prove_consistency(13)]
    return {"dir": d, "path": path, "log": EvidenceLog(path), "cp": cp, "truth": truth,
            "proofs": [{"type": "inclusion", **p} for p in proofs] + [{"type": "consistency", **c} for c in cons]}


def proof_inputs(world_proofs):
    return st.one_of(
        st.binary(max_size=300),
        JSON.map(lambda o: dumps(o, False)),
        st.sampled_from(world_proofs).flatmap(lambda p: mutated(p, canonical=False)),
    )




def _check_proof_answer(res: dict, world) -> None:
    import hashlib

    no_non_finite(res)
    if not res["ok"]:
        return
    if res["type"] == "inclusion":
        kind, data, at = world["truth"][res["index"]]
        assert res["index"] < res["size"] <= N_LOG
        assert (res["kind"], res["received_at"], res["data_sha256"]) == (kind, at, hashlib.sha256(data).hexdigest())
    else:
        assert 1 <= res["old_size"] <= res["new_size"] <= N_LOG


@fuzz_settings(N_PROOF_API)
@given(data=st.data())
@example(data=None)
def test_proof_reader_api(world, data):
    """verify_proof on bytes: EvidenceError or a verdict that matches the log."""
    from otclab.esign.evidence import verify_proof

    inputs = [b"[]", b"null", DEEP, b'{"type":"inclusion","index":NaN}', b'{"type":"consistency","old_size":1e400}',
              b"\xff\xfe", b'{"type": "inclusion", "index": 0, "index": 1}']
    if data is None:
        raw_list = inputs + [dumps(p, False) for p in world["proofs"]]
    else:
        raw_list = [data.draw(proof_inputs(world["proofs"]))]
    for raw in raw_list:
        try:
            res = verify_proof(raw, log=world["log"])
        except OtcError:
            continue
        _check_proof_answer(res, world)
    if data is None:  # the genuine proofs verify
        assert all(verify_proof(dumps(p, False), log=world["log"])["ok"] for p in world["proofs"])


@fuzz_settings(N_PROOF_CLI)
@given(data=st.data())
@example(data=None)
def test_proof_reader_cli(world, data):
    """``otclab evidence verify --proof FILE --json``: exit 0/1 with a JSON verdict, or exit 2 and one line."""
    raws = [b"[]", b"1", DEEP, b'{"type": "inclusion", "index": 0, "size": 1e400}'] if data is None else \
        [data.draw(proof_inputs(world["proofs"]))]
    f = world["dir"] / "p.json"
    for raw in raws:
        f.write_bytes(raw)
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["evidence", "verify", "--proof", str(f), "--log", str(world["path"]), "--json"])
        assert code in (0, 1, 2), code
        if code == 2:
            assert err.getvalue().startswith("error: ") and err.getvalue().count("\n") == 1
            continue
        res = json.loads(out.getvalue(), parse_constant=lambda c: pytest.fail(f"non-finite {c} in output"))
        assert res["ok"] == (code == 0)
        _check_proof_answer(res, world)


@fuzz_settings(N_CHECKPOINT)
@given(data=st.data())
@example(data=None)
def test_checkpoint_reader(world, trust, pki, data):
    """Checkpoint.from_json + verify_checkpoint: OtcError, or the log's true size and root by a trusted signer."""
    from cryptography.hazmat.primitives.serialization import Encoding

    genuine = json.loads(world["cp"].to_json())
    if data is None:
        raws = [DEEP, b"[]", canonical_json({"algorithm": "rsa-pss-sha256", "body": 5, "certificate": "", "signature": ""}),
                b'{"algorithm":"rsa-pss-sha256","body":NaN,"certificate":"","signature":""}',
                world["cp"].to_json().encode()]
    else:
        raws = [data.draw(st.one_of(st.binary(max_size=300), JSON.map(lambda o: dumps(o, True)),
                                    mutated(genuine, canonical=True)))]
    lg = world["log"]
    for raw in raws:
        try:
            cp = Checkpoint.from_json(raw)
            res = lg.verify_checkpoint(cp, trust)
        except OtcError:
            continue
        no_non_finite(res)
        assert res["size"] == cp.size and cp.root == lg.root(cp.size)
        assert cp.certificate == pki.parties["dealer"].chain[0].public_bytes(Encoding.DER)


@pytest.fixture(scope="module")
def sealed(pki, trust):
    from otclab.esign.envelope import seal_envelope

    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)  # the demo PKI is valid from yesterday
    env = seal_envelope(b"confirmation CN0000000000ABC123", "confirmation", "CN0000000000ABC123",
                        pki.parties["dealer"].signer(), pki.parties["client"].chain[0], trust=trust, now=now)
    return env, now


@fuzz_settings(N_ENVELOPE)
@given(data=st.data())
@example(data=None)
def test_envelope_reader(sealed, pki, trust, data):
    """open_envelope: OtcError, or exactly the content and header that were sealed."""
    from otclab.esign.envelope import ReplayStore, open_envelope

    env, now = sealed
    genuine = json.loads(env)
    if data is None:
        raws = [DEEP, b"[]", env.replace(b'"v":1', b'"v":1.0'), env.replace(b'"v":1', b'"v":NaN'), env]
    else:
        raws = [data.draw(st.one_of(st.binary(max_size=300), JSON.map(lambda o: dumps(o, True)),
                                    mutated(genuine, canonical=True, nested=("header",))))]
    client = pki.parties["client"]
    for raw in raws:
        store = ReplayStore()
        try:
            opened = open_envelope(raw, client.key, client.chain[0], trust, store, now=now)
        except OtcError:
            continue
        finally:
            store.close()
        assert opened.content == b"confirmation CN0000000000ABC123" and opened.header == genuine["header"]
        no_non_finite(opened.header)
