"""``otclab envelope``: seal (encrypt + sign) and open (verify + decrypt) exchange envelopes."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

NAME = "envelope"
app = typer.Typer(help="Encrypted, signed exchange envelopes (AES-256-GCM, RSA-OAEP, RSA-PSS).", no_args_is_help=True)


@app.command()
def seal(
    infile: Path = typer.Argument(..., help="Content to send."),
    out: Path = typer.Argument(..., help="Where to write the envelope (JSON)."),
    to: Path = typer.Option(..., help="Recipient certificate (PEM)."),
    msg_type: str = typer.Option(..., "--type", help="Message type, e.g. confirmation, report."),
    uti: str = typer.Option(..., help="Unique transaction identifier of the trade."),
    key: Path = typer.Option(..., help="Sender key (PKCS#12 or PEM)."),
    cert: Optional[Path] = typer.Option(None, help="Sender certificate chain, for a PEM key."),
    password: Optional[str] = typer.Option(None, help="Key password."),
    trust_root: Optional[List[Path]] = typer.Option(None, help="Trusted root(s): check both certificates first."),
    crl: Optional[List[Path]] = typer.Option(None, help="CRL file(s)."),
    evidence: Optional[str] = typer.Option(None, help="Evidence log (path or postgresql:// URL)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Encrypt INFILE for the recipient and sign it as sender; the envelope is logged as evidence."""
    import json

    from ..esign.cli_support import credentials, emit, open_log, read_bytes, trust_store, write_bytes
    from ..esign.envelope import seal_envelope
    from ..esign.pki import load_certificates

    content = read_bytes(infile, "infile", "envelope_bytes")
    sender = credentials(key, cert, password).signer()
    recipient = load_certificates(to, field="to")[0]
    trust = trust_store(trust_root, crl) if trust_root else None
    with open_log(evidence) as log:
        env = seal_envelope(content, msg_type, uti, sender, recipient, trust=trust, evidence=log)
        size = log.size()
    write_bytes(out, env)
    header = json.loads(env)["header"]
    emit({"envelope": str(out), "header": header, "bytes": len(env), "evidence_size": size}, as_json,
         [f"sealed {infile} -> {out} ({len(env)} bytes) type={msg_type} uti={uti}"])


@app.command("open")
def open_(
    infile: Path = typer.Argument(..., help="Envelope to open."),
    out: Path = typer.Argument(..., help="Where to write the decrypted content."),
    key: Path = typer.Option(..., help="Recipient key (PKCS#12 or PEM)."),
    cert: Optional[Path] = typer.Option(None, help="Recipient certificate, for a PEM key."),
    password: Optional[str] = typer.Option(None, help="Key password."),
    trust_root: List[Path] = typer.Option(..., help="Trusted root(s) for the sender certificate."),
    crl: Optional[List[Path]] = typer.Option(None, help="CRL file(s)."),
    expect_type: Optional[str] = typer.Option(None, help="Refuse unless the message type is this."),
    expect_uti: Optional[str] = typer.Option(None, help="Refuse unless the UTI is this."),
    window: int = typer.Option(300, help="Accepted clock difference in seconds (replay window), 1..86400."),
    replay_db: Optional[Path] = typer.Option(None, help="Replay/inbox store (default ./otclab-replay.sqlite)."),
    evidence: Optional[str] = typer.Option(None, help="Evidence log (path or postgresql:// URL)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Verify the sender's signature and certificate, check the replay window, then decrypt."""
    import datetime as dt

    from ..esign.cli_support import DEFAULT_REPLAY, credentials, emit, open_log, read_bytes, trust_store, write_bytes
    from ..esign.envelope import ReplayStore, open_envelope
    from ..esign.errors import InputError
    from ..esign.limits import WINDOW_RANGE_S

    lo, hi = WINDOW_RANGE_S
    if not lo <= window <= hi:
        raise InputError(f"must be {lo}..{hi} seconds; got {window}", field="window")
    data = read_bytes(infile, "infile", "envelope_bytes")
    cred = credentials(key, cert, password)
    replay = ReplayStore(replay_db or DEFAULT_REPLAY)
    try:
        with open_log(evidence) as log:
            opened = open_envelope(data, cred.key, cred.chain[0], trust_store(trust_root, crl), replay,
                                   expect_type=expect_type, expect_uti=expect_uti,
                                   window=dt.timedelta(seconds=window), evidence=log)
    finally:
        replay.close()
    write_bytes(out, opened.content)
    emit({"content": str(out), "bytes": len(opened.content), "header": opened.header,
          "sender": opened.sender.subject.rfc4514_string(), "envelope_sha256": opened.sha256}, as_json,
         [f"opened {infile} from {opened.sender.subject.rfc4514_string()}: type={opened.header['type']} "
          f"uti={opened.header['uti']} -> {out} ({len(opened.content)} bytes)"])
