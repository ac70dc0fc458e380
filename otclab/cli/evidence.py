"""``otclab evidence``: append to the evidence log, prove inclusion/consistency, verify, checkpoint."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

NAME = "evidence"
app = typer.Typer(help="Append-only RFC 9162 Merkle evidence log with signed checkpoints.", no_args_is_help=True)

LOG_HELP = "Evidence log: SQLite path or postgresql:// URL (default $OTCLAB_EVIDENCE_URL or ./otclab-evidence.sqlite)."


@app.command()
def append(
    kind: str = typer.Option(..., help="Entry kind, e.g. pdf.signed, note."),
    file: Optional[Path] = typer.Option(None, help="Log this file: its SHA-256, name and size."),
    record: Optional[str] = typer.Option(None, help="Log this JSON object (canonicalised)."),
    log: Optional[str] = typer.Option(None, help=LOG_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Append one entry; prints its index, leaf hash and the new tree size and root."""
    import hashlib
    import json

    from ..esign.cli_support import emit, open_log, read_bytes
    from ..esign.errors import InputError

    if (file is None) == (record is None):
        raise InputError("give exactly one of --file or --record", field="file")
    if file is not None:
        data = read_bytes(file, "file")
        obj = {"file": file.name, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    else:
        try:
            obj = json.loads(record)
        except ValueError as exc:
            raise InputError(f"not valid JSON ({exc})", field="record") from None
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

    from ..esign.cli_support import emit, open_log
    from ..esign.errors import InputError

    if (index is None) == (consistency is None):
        raise InputError("give an entry INDEX or --consistency OLD_SIZE (one of them)", field="index")
    with open_log(log) as lg:
        if index is not None:
            proof = {"type": "inclusion", **lg.prove_inclusion(index, size)}
            line = f"inclusion proof of entry {index} in tree of size {proof['size']}: {len(proof['proof'])} hashes"
        else:
            proof = {"type": "consistency", **lg.prove_consistency(consistency, size)}
            line = f"consistency proof {consistency} -> {proof['new_size']}: {len(proof['proof'])} hashes"
    if out is not None:
        out.write_text(json.dumps(proof, indent=2))
    emit(proof, as_json, [line, f"root {proof.get('root') or proof.get('new_root')}"])


@app.command()
def verify(
    proof: Optional[Path] = typer.Option(None, help="Proof JSON (from `prove`) to verify on its own."),
    entry: Optional[Path] = typer.Option(None, help="With an inclusion proof: the entry's data, checked against the leaf."),
    checkpoint: Optional[Path] = typer.Option(None, help="Checkpoint file: check signature and that the log extends it."),
    trust_root: Optional[List[Path]] = typer.Option(None, help="Trusted root(s) for checkpoint signers."),
    crl: Optional[List[Path]] = typer.Option(None, help="CRL file(s)."),
    log: Optional[str] = typer.Option(None, help=LOG_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Verify a proof, a checkpoint against the log, or (no options) audit the whole log.

    Exit code 0 when everything verifies, 1 when something does not.
    """
    import json

    from ..esign.cli_support import emit, open_log, read_bytes, trust_store
    from ..esign.errors import InputError
    from ..esign.evidence import Checkpoint, verify_consistency_proof, verify_inclusion_proof

    trust = trust_store(trust_root, crl) if trust_root else None
    if proof is not None:
        try:
            p = json.loads(read_bytes(proof, "proof"))
        except ValueError as exc:
            raise InputError(f"proof file is not JSON ({exc})", field="proof") from None
        if p.get("type") == "consistency":
            ok = verify_consistency_proof(p)
        else:
            ok = verify_inclusion_proof(p, read_bytes(entry, "entry") if entry else None)
        result = {"type": p.get("type", "inclusion"), "ok": ok}
        lines = [f"{result['type']} proof: {'VERIFIED' if ok else 'FAILED'}"]
    elif checkpoint is not None:
        cp = Checkpoint.from_json(read_bytes(checkpoint, "checkpoint"))
        with open_log(log) as lg:
            result = {"ok": True, **lg.verify_checkpoint(cp, trust)}
        lines = [f"checkpoint size {cp.size} at {cp.time}: signature OK, log consistent up to {result.get('consistent_with_size', 0)}"]
    else:
        with open_log(log) as lg:
            result = lg.audit(trust)
        lines = [f"log of {result['size']} entries, {result['checkpoints']} checkpoint(s): {'OK' if result['ok'] else 'PROBLEMS FOUND'}",
                 *result["problems"]]
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

    from ..esign.cli_support import credentials, emit, open_log

    signer = credentials(key, cert, password).signer()
    with open_log(log) as lg:
        cp = lg.checkpoint(signer)
    if out is not None:
        out.write_text(cp.to_json())
    emit({"size": cp.size, "root": cp.root.hex(), "time": cp.time, "algorithm": cp.algorithm,
          "file": str(out) if out else None, "checkpoint": json.loads(cp.to_json())}, as_json,
         [f"checkpoint: size {cp.size}, root {cp.root.hex()}, time {cp.time}" + (f" -> {out}" if out else "")])
