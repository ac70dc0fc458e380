"""``otclab evidence``: append to the evidence log, prove inclusion/consistency, verify, checkpoint, migrate.

Only ``append`` creates a log; every other command refuses a path where there is none. Proofs are
verified against trusted roots only: a checkpoint checked with ``--trust-root``, or the log.
"""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

NAME = "evidence"
app = typer.Typer(help="Append-only RFC 9162 Merkle evidence log with signed checkpoints.", no_args_is_help=True)

LOG_HELP = "Evidence log: SQLite path or postgresql:// URL (default $OTCLAB_EVIDENCE_URL or ./otclab-evidence.sqlite)."


@app.command()
def append(
    kind: str = typer.Option(..., help="Entry kind, e.g. pdf.signed, note (1-64 of A-Z a-z 0-9 . _ : -)."),
    file: Optional[Path] = typer.Option(None, help="Log this file: its SHA-256, name and size."),
    record: Optional[str] = typer.Option(None, help="Log this JSON object (canonicalised)."),
    log: Optional[str] = typer.Option(None, help=LOG_HELP + " Created if missing."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Append one entry; prints its index, leaf hash and the new tree size and root (after a durable commit)."""
    from ..esign.canonical import load_json
    from ..esign.cli_support import emit, open_log, sha256_file
    from ..esign.errors import InputError
    from ..esign.evidence.entry import check_kind
    from ..esign.limits import check_size

    check_kind(kind)
    if (file is None) == (record is None):
        raise InputError("give exactly one of --file or --record", field="file")
    if file is not None:
        size, digest = sha256_file(file, "file")
        obj = {"file": file.name, "bytes": size, "sha256": digest}
    else:
        check_size(len(record.encode("utf-8", "surrogatepass")), "record_bytes", "record")
        obj = load_json(record, "record")
        if not isinstance(obj, dict):
            raise InputError("must be a JSON object", field="record")
    with open_log(log) as lg:
        receipt = lg.append(kind, obj)
    emit(receipt.to_dict(), as_json, [f"entry {receipt.index} appended; size {receipt.size}, root {receipt.root.hex()}"])


@app.command()
def prove(
    index: Optional[int] = typer.Argument(None, help="Entry index for an inclusion proof."),
    consistency: Optional[int] = typer.Option(None, help="Old tree size for a consistency proof instead."),
    size: Optional[int] = typer.Option(None, help="Tree size to prove against (default: current)."),
    out: Optional[Path] = typer.Option(None, help="Also write the proof JSON to this file."),
    log: Optional[str] = typer.Option(None, help=LOG_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Inclusion proof of entry INDEX, or with --consistency OLD a consistency proof OLD -> size."""
    import json

    from ..esign.cli_support import emit, open_log, write_bytes
    from ..esign.errors import InputError

    if (index is None) == (consistency is None):
        raise InputError("give an entry INDEX or --consistency OLD_SIZE (one of them)", field="index")
    with open_log(log, create=False) as lg:
        lg.require_entries()
        if index is not None:
            proof = {"type": "inclusion", **lg.prove_inclusion(index, size)}
            line = (f"inclusion proof of entry {index} ({proof['kind']}, {proof['received_at']}) in tree of size "
                    f"{proof['size']}: {len(proof['proof'])} hashes")
        else:
            proof = {"type": "consistency", **lg.prove_consistency(consistency, size)}
            line = f"consistency proof {consistency} -> {proof['new_size']}: {len(proof['proof'])} hashes"
    if out is not None:
        write_bytes(out, json.dumps(proof, indent=2, ensure_ascii=False).encode("utf-8"))
    emit(proof, as_json, [line, f"root {proof.get('root') or proof.get('new_root')} (verify it against a checkpoint "
                                "or the log: otclab evidence verify --proof)"])


@app.command()
def verify(
    proof: Optional[Path] = typer.Option(None, help="Proof JSON (from `prove`) to verify against a trusted root."),
    entry: Optional[Path] = typer.Option(None, help="With an inclusion proof: the entry's data, checked too."),
    checkpoint: Optional[List[Path]] = typer.Option(
        None, help="Signed checkpoint (repeatable; needs --trust-root): the trusted root of its size; without "
                   "--proof, checked against the log."),
    trust_root: Optional[List[Path]] = typer.Option(None, help="Trusted root(s) for checkpoint signers."),
    crl: Optional[List[Path]] = typer.Option(None, help="CRL file(s)."),
    log: Optional[str] = typer.Option(None, help=LOG_HELP + " Never created here."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Verify a proof (against checkpoints and/or the log), checkpoints against the log, or audit the log.

    Exit code 0 when everything verifies, 1 when something does not, 2 for an error (a missing,
    empty or damaged log, a malformed file, no trusted root for a proof).
    """
    from ..esign.cli_support import emit, open_log, read_bytes, trust_store
    from ..esign.errors import InputError
    from ..esign.evidence import Checkpoint, verify_proof

    if entry is not None and proof is None:
        raise InputError("--entry goes with --proof (an inclusion proof of that entry)", field="entry")
    if checkpoint and not trust_root:
        raise InputError("a checkpoint is trusted only through the root that issued its signer's certificate: "
                         "give --trust-root", field="trust-root")
    trust = trust_store(trust_root, crl) if trust_root else None
    cps = [Checkpoint.from_json(read_bytes(c, "checkpoint", "checkpoint_bytes")) for c in checkpoint or []]
    if proof is not None:
        raw = read_bytes(proof, "proof", "proof_bytes")
        data = read_bytes(entry, "entry", "entry_bytes") if entry is not None else None
        opened = []

        def open_it():
            opened.append(open_log(log, create=False))
            return opened[-1]

        try:
            result = verify_proof(raw, log=open_it, checkpoints=cps, trust=trust, data=data)
        finally:
            for lg in opened:
                lg.close()
        lines = [f"{result['type']} proof: {'VERIFIED' if result['ok'] else 'FAILED'}"]
        if result["type"] == "inclusion":
            lines.append(f"  entry {result['index']} of {result['size']}: kind {result['kind']}, received "
                         f"{result['received_at']}, data SHA-256 {result['data_sha256']}"
                         + ("" if result["entry_checked"] else " (entry data not given: not checked)"))
        lines += [f"  root of size {r['size']} from {r['source']}" for r in result["roots"]]
        lines += [f"  {p}" for p in result["problems"]]
    elif cps:
        with open_log(log, create=False) as lg:
            lg.require_entries()
            checked = [lg.verify_checkpoint(cp, trust) for cp in cps]
        result = {"ok": True, **checked[0]} if len(checked) == 1 else {"ok": True, "checkpoints": checked}
        lines = [f"checkpoint size {c['size']} at {c['time']}: signed by {c['signer']} (trusted), "
                 f"log consistent up to {c.get('consistent_with_size', c['size'])}" for c in checked]
    else:
        with open_log(log, create=False) as lg:
            result = lg.audit(trust)
        lines = [f"log of {result['size']} entries, {result['checkpoints']} checkpoint(s): "
                 f"{'OK' if result['ok'] else 'PROBLEMS FOUND'}", *result["problems"],
                 *(f"note: {n}" for n in result["notes"])]
    emit(result, as_json, lines)
    if not result["ok"]:
        raise SystemExit(1)  # main() maps SystemExit to the exit code (typer.Exit is swallowed there)


@app.command("checkpoint")
def checkpoint_(
    key: Path = typer.Option(..., help="Signer key (PKCS#12 or PEM)."),
    cert: Optional[Path] = typer.Option(None, help="Signer certificate chain, for a PEM key."),
    password: Optional[str] = typer.Option(None, help="Key password."),
    out: Optional[Path] = typer.Option(None, help="Write the checkpoint file here."),
    log: Optional[str] = typer.Option(None, help=LOG_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Sign and store a checkpoint (size, root hash, time) of the current log."""
    import json

    from ..esign.cli_support import credentials, emit, open_log, write_bytes

    signer = credentials(key, cert, password).signer()
    with open_log(log, create=False) as lg:
        cp = lg.checkpoint(signer)
    if out is not None:
        write_bytes(out, cp.to_json().encode("utf-8"))
    emit({"size": cp.size, "root": cp.root.hex(), "time": cp.time, "algorithm": cp.algorithm,
          "file": str(out) if out else None, "checkpoint": json.loads(cp.to_json())}, as_json,
         [f"checkpoint: size {cp.size}, root {cp.root.hex()}, time {cp.time}" + (f" -> {out}" if out else "")])


@app.command()
def migrate(
    old: str = typer.Argument(..., help="The format-1 log (path or URL); left untouched."),
    new: str = typer.Argument(..., help="Where to write the format-2 log (must not exist yet)."),
    trust_root: Optional[List[Path]] = typer.Option(None, help="Trusted root(s): also check the old checkpoints' signers."),
    crl: Optional[List[Path]] = typer.Option(None, help="CRL file(s)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Copy a format-1 log (kind and time outside the leaf hash) into a new format-2 log, after auditing it."""
    from ..esign.cli_support import emit, trust_store
    from ..esign.evidence import migrate_log

    trust = trust_store(trust_root, crl) if trust_root else None
    res = migrate_log(old, new, trust)
    emit(res, as_json, [f"migrated {res['from']['size']} entries (old root {res['from']['root']}, "
                        f"{len(res['from']['checkpoints'])} checkpoint(s)) -> {new}: size {res['to']['size']}, "
                        f"root {res['to']['root']}; sign a new checkpoint of it"])
