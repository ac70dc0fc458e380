"""``otclab esign``: demo PKI, PAdES signing with a visible seal and timestamp, PDF validation."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

NAME = "esign"
app = typer.Typer(help="Sign PDFs (PAdES, visible Chinese seal, RFC 3161 timestamp) and validate them.",
                  no_args_is_help=True)


@app.command("demo-pki")
def demo_pki(
    directory: Path = typer.Argument(..., help="Folder to write the demo CA, party keys, TSA and CRL into."),
    password: Optional[str] = typer.Option(
        None, envvar="OTCLAB_DEMO_PKI_PASSWORD",
        help="Encrypt every private key with this passphrase (also the PKCS#12 password). Default: PEM keys "
             "unencrypted, PKCS#12 password 'demo'."),
    force: bool = typer.Option(False, "--force", help="Replace files already in the folder."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Create a demo/test PKI: root CA, dealer, client, TSA, expired, revoked and TLS certificates, CRL.

    Private keys are written with mode 0600 (the folder, if new, 0700); existing files are never
    replaced without --force.
    """
    from ..esign.cli_support import emit
    from ..esign.pki.demo import DEMO_PASSWORD, build_demo_pki

    files = build_demo_pki().write(directory, password=password, force=force)
    how = ("keys encrypted with the given passphrase" if password else
           f"PEM keys NOT encrypted (demo only; --password encrypts them), PKCS#12 password {DEMO_PASSWORD!r}")
    emit({"directory": str(directory), "files": files, "keys_encrypted": bool(password),
          "pkcs12_password": None if password else DEMO_PASSWORD}, as_json,
         [f"demo PKI written to {directory} ({len(files)} files, private keys mode 0600; {how})"])


@app.command()
def sign(
    pdf: Path = typer.Argument(..., help="PDF to sign."),
    out: Path = typer.Argument(..., help="Where to write the signed PDF."),
    key: Path = typer.Option(..., help="Signer key: PKCS#12 (.p12/.pfx) or PEM private key."),
    cert: Optional[Path] = typer.Option(None, help="Signer certificate chain (PEM), for a PEM key."),
    password: Optional[str] = typer.Option(None, help="Password of the key / PKCS#12 file."),
    field: Optional[str] = typer.Option(None, help="Signature field name (an existing empty one is filled)."),
    later_field: Optional[List[str]] = typer.Option(None, help="Empty seal field to create for a later signer (repeatable)."),
    certify: bool = typer.Option(False, help="Certification signature: afterwards only form filling and signing."),
    seal_text: Optional[List[str]] = typer.Option(None, help="Seal text line (repeatable; %(signer)s, %(ts)s)."),
    reason: Optional[str] = typer.Option(None, help="Reason for signing."),
    location: Optional[str] = typer.Option(None, help="Place of signing."),
    tsa_key: Optional[Path] = typer.Option(None, help="Local timestamp authority key (PKCS#12 or PEM)."),
    tsa_cert: Optional[Path] = typer.Option(None, help="TSA certificate chain (PEM), for a PEM TSA key."),
    tsa_password: Optional[str] = typer.Option(None, help="Password of the TSA key."),
    trust_root: Optional[List[Path]] = typer.Option(None, help="Trusted root (PEM); checks the signer before signing."),
    crl: Optional[List[Path]] = typer.Option(None, help="CRL file(s) (PEM or DER)."),
    evidence: Optional[str] = typer.Option(None, help="Evidence log (path or postgresql:// URL)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Sign PDF with a visible seal (and timestamp with --tsa-key); the signature is logged as evidence."""
    from ..esign.cli_support import credentials, emit, open_log, read_bytes, trust_store, write_bytes
    from ..esign.pdfsign import SealSpec, sign_pdf
    from ..esign.pdfsign.sign import next_field_name, signed_record
    from ..esign.pki.tsa import LocalTimestampAuthority

    data = read_bytes(pdf, "pdf", "pdf_bytes")
    cred = credentials(key, cert, password)
    trust = trust_store(trust_root, crl) if trust_root else None
    tsa = LocalTimestampAuthority(credentials(tsa_key, tsa_cert, tsa_password), trust) if tsa_key else None
    seal = SealSpec(lines=list(seal_text)) if seal_text else None
    signer = cred.signer()
    field = field or next_field_name(data)
    signed = sign_pdf(data, signer, field_name=field, later_fields=later_field or (), seal=seal,
                      timestamper=tsa, certify=certify, reason=reason, location=location, trust=trust)
    write_bytes(out, signed)
    # the same record sign_pdf(..., evidence=log) appends; appended here to get the receipt back
    record = signed_record(data, signed, signer, field, certify, tsa is not None)
    with open_log(evidence) as log:
        receipt = log.append("pdf.signed", record)
    emit({**record, "output": str(out), "evidence": receipt.to_dict()}, as_json,
         [f"signed {pdf} -> {out} by {record['signer']}", f"evidence entry {receipt.index} (tree size {receipt.size})"])


@app.command()
def verify(
    pdf: Path = typer.Argument(..., help="Signed PDF to validate."),
    trust_root: List[Path] = typer.Option(..., help="Trusted root certificate(s) (PEM)."),
    crl: Optional[List[Path]] = typer.Option(None, help="CRL file(s)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Validate every signature offline: intact, trusted, whole-document coverage, timestamp, signer.

    Exit code 0 when all signatures are fine, 1 when any is not (the report says which and why).
    """
    import logging

    from ..esign.cli_support import emit, read_bytes, trust_store
    from ..esign.pdfsign import verify_pdf

    # pyHanko logs each failed check with a traceback; the report below already names the problem
    for name in ("pyhanko", "pyhanko_certvalidator"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    report = verify_pdf(read_bytes(pdf, "pdf", "pdf_bytes"), trust_store(trust_root, crl))
    lines = [f"{pdf}: {'OK' if report['ok'] else 'NOT OK'} ({report['count']} signature(s))", *report["problems"]]
    for s in report["signatures"]:
        ts = s.get("timestamp", {})
        lines.append(
            f"  [{s['field']}] {s.get('signer', '?')}: intact={s['intact']} trusted={s['trusted']} "
            f"coverage={s.get('coverage')} timestamp={ts.get('time') if ts.get('present') else 'none'}"
            + ("" if s["ok"] else " PROBLEMS: " + "; ".join(s["problems"]))
        )
        lines += [f"    note: {n}" for n in s.get("notes", [])]
    emit(report, as_json, lines)
    if not report["ok"]:
        raise SystemExit(1)  # main() maps SystemExit to the exit code (typer.Exit is swallowed there)
