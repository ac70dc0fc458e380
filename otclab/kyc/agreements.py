"""The agreements an approved client signs online: the supplement to the SAC/NAFMII master
agreement, the risk disclosure and the suitability match (``data/agreements.toml``;
``OTCLAB_KYC_AGREEMENTS`` names another file). The same route as the online confirmation
(``otclab.confirm.online``): the firm certifies each document, the client countersigns it.

``issue`` (an approved case only) renders each agreement as a Chinese PDF filled from the case
(institution, USCC, legal representative, C-level, date, case), has the firm *certify* it with
its seal (``report.seal_credentials``; DocMDP, an empty ``client`` field for the client),
writes it atomically under ``<KYC files>/agreements/<case>/<kind>-<sha256>.pdf`` (never
overwritten), records one ``kyc_agreements`` row per agreement and appends
``kyc.agreement_issued`` to the evidence log. Issuing again returns the rows there are; a crash
after the file and before its row is finished by the rerun, which finds the file by the hash its
name carries (and a missing evidence entry is appended by the next ``issue`` or ``sign``).

``sign`` has the client sign one agreement in its ``client`` field: refused unless it is issued
and not signed yet, the stored copy still has its recorded SHA-256 and the firm's seal verifies;
after signing both signatures must verify (``verify_pdf``: ok, two signatures) before the copy is
stored (``<kind>-signed-<sha256>.pdf``), the row marked signed and ``kyc.agreement_signed``
logged. The client's credentials come either from its own certificate (PKCS#12 or PEM, e.g. a
CFCA one: ``otclab kyc agreements sign``) or, in the client's web form, from an *event
certificate* (事件证书, ``event_credentials``): issued at signing time by the platform's signing CA
(``OTCLAB_KYC_CLIENT_CA_KEY`` / ``_CERT`` / ``_PASSWORD``, default the root of the PKI folder the
seal comes from) for the logged-in client's institution (O = institution, OU and serialNumber =
USCC, CN = the invited contact, UID = the login), its key made for the one signature and
discarded after it.

Trading waits for the signatures: ``clients._status`` refuses a client whose latest client-master
row comes from a case until every required agreement of that case is signed (``required_kinds``).
"""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
import io
import logging
import os
import re
import string
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from ..core.errors import InputError, OtcError
from ..store import tables_kyc as T
from ..store.db import data_dir, now
from .paths import files_dir, write_atomic

log = logging.getLogger("otclab.kyc.agreements")

AGREEMENTS_FILE = Path(__file__).with_name("data") / "agreements.toml"
DEALER_FIELD, CLIENT_FIELD = "dealer", "client"
FOLDER = "agreements"
CST = dt.timezone(dt.timedelta(hours=8))
KIND_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
PLACEHOLDERS = ("firm", "date", "institution", "uscc", "legal_rep", "case_id", "counterparty_id", "client_type",
                "c_level", "score", "product_level", "professional", "match")
#: the event certificate's validity (days) without a timestamp authority: ``otclab esign verify``
#: then checks the signer's certificate at the time it runs, so a short-lived one would stop
#: verifying once it expires. With the platform's TSA (``timestamper``) every client signature
#: carries a trusted RFC 3161 timestamp and is verified at that time, so the certificate lives
#: ``EVENT_CERT_TIMESTAMPED_DAYS``, as e-sign platforms issue them. Its key serves one signature.
EVENT_CERT_DAYS = 730
EVENT_CERT_TIMESTAMPED_DAYS = 1


class AgreementError(OtcError):
    """An agreement that cannot be issued or signed now (the message says why)."""


# ---- the agreements as data -------------------------------------------------------------------
@functools.lru_cache(maxsize=4)
def _load(path: str) -> tuple[dict, str]:
    from .rules import read_toml

    doc, digest = read_toml(path, "agreements file", "OTCLAB_KYC_AGREEMENTS")
    _validate(doc, path)
    return doc, digest


def _fields(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f is not None}


def _validate(doc: dict, path: str) -> None:
    where = f"agreements file {path}"
    if not isinstance(doc.get("firm"), str) or not doc["firm"].strip():
        raise OtcError(f"{where}: `firm` (the dealer's name) is required", "firm")
    items = doc.get("agreement")
    if not isinstance(items, list) or not items:
        raise OtcError(f"{where}: at least one [[agreement]] is required", "agreement")
    seen = set()
    texts = [("match_yes", doc.get("match_yes", "")), ("match_no", doc.get("match_no", ""))]
    for i, a in enumerate(items):
        kind = a.get("kind")
        if not isinstance(kind, str) or not KIND_RE.match(kind):
            raise OtcError(f"{where}: agreement {i + 1}: kind must be 1-32 lower-case ascii letters, digits or '_' "
                           f"starting with a letter; got {kind!r}", "kind")
        if kind in seen:
            raise OtcError(f"{where}: agreement kind {kind!r} appears twice", "kind")
        seen.add(kind)
        if not isinstance(a.get("title"), str) or not a["title"].strip():
            raise OtcError(f"{where}: agreement {kind}: a title is required", "title")
        if not isinstance(a.get("required", True), bool):
            raise OtcError(f"{where}: agreement {kind}: required must be true or false", "required")
        paras = a.get("paragraphs")
        if not isinstance(paras, list) or not paras or not all(isinstance(p, str) for p in paras):
            raise OtcError(f"{where}: agreement {kind}: paragraphs must be a list of strings", "paragraphs")
        if "{" in a["title"] or "}" in a["title"]:
            raise OtcError(f"{where}: agreement {kind}: the title is plain text (no placeholders)", "title")
        texts += [(f"{kind} paragraph {j + 1}", p) for j, p in enumerate(paras)]
    for what, text in texts:
        try:
            unknown = sorted(_fields(text) - set(PLACEHOLDERS))
        except ValueError as e:
            raise OtcError(f"{where}: {what}: {e} (a literal brace is written twice)", "paragraphs") from None
        if unknown:
            raise OtcError(f"{where}: {what}: unknown placeholder(s) {', '.join('{' + u + '}' for u in unknown)}; "
                           f"allowed: {', '.join(PLACEHOLDERS)}", "paragraphs")


def _config() -> tuple[dict, str]:
    return _load(str(os.environ.get("OTCLAB_KYC_AGREEMENTS") or AGREEMENTS_FILE))


def definitions() -> list[dict]:
    """The agreements in force: [{kind, title, required, paragraphs}] in the file's order."""
    return [{"kind": a["kind"], "title": a["title"], "required": bool(a.get("required", True)),
             "paragraphs": list(a["paragraphs"])} for a in _config()[0]["agreement"]]


def required_kinds() -> tuple[str, ...]:
    return tuple(a["kind"] for a in definitions() if a["required"])


def titles() -> dict[str, str]:
    return {a["kind"]: a["title"] for a in definitions()}


# ---- what is filled in and how it looks ----------------------------------------------------
def facts_for(v) -> dict:
    """The placeholder values of an approved case (a ``CaseView``)."""
    from .fields import CLIENT_TYPES
    from .rules import rules

    doc = _config()[0]
    q, s = v.questionnaire or {}, v.suitability or {}
    p = rules()["products"]
    level = max([int(p["default_level"]), *(int(x) for x in p.get("levels", {}).values())])
    c_level = int(q.get("c_level") or 1)
    out = {"firm": doc["firm"], "date": now().astimezone(CST).strftime("%Y年%m月%d日"), "institution": v.institution,
           "uscc": v.uscc, "legal_rep": v.facts.get("legal_rep_name") or "", "case_id": v.case_id,
           "counterparty_id": v.counterparty_id,
           "client_type": CLIENT_TYPES.get(v.client_type, (v.client_type or "",))[0],
           "c_level": f"C{c_level}", "score": f"{q.get('score')}/{q.get('max')}", "product_level": f"R{level}",
           "professional": "专业投资者" if s.get("professional") else "普通投资者"}
    match = doc.get("match_yes") if c_level >= level else doc.get("match_no")
    out["match"] = (match or "").format(**out)
    return out


def render(defn: dict, facts: dict) -> bytes:
    """The unsigned PDF of one agreement (Chinese, reportlab, the confirmations' CJK font)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    from ..confirm.generate import _font

    font = _font()
    body = ParagraphStyle("b", fontName=font, fontSize=10.5, leading=17, wordWrap="CJK", firstLineIndent=21,
                          spaceafter=5)
    meta = ParagraphStyle("m", fontName=font, fontSize=8.5, leading=12, wordWrap="CJK", alignment=1)
    h1 = ParagraphStyle("h1", fontName=font, fontSize=15, leading=22, alignment=1, wordWrap="CJK")

    def esc(t: str) -> str:
        return t.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    title = defn["title"]
    out = [Paragraph(esc(title), h1),
           Paragraph(esc(f"案件编号 {facts['case_id']} · 交易对手编号 {facts['counterparty_id']} · {facts['date']}"), meta),
           Spacer(1, 6 * mm)]
    out += [Paragraph(esc(p.format(**facts)), body) for p in defn["paragraphs"]]
    out += [Spacer(1, 6 * mm),
            Paragraph(esc(f"甲方：{facts['firm']}（电子签章）"), body),
            Paragraph(esc(f"乙方：{facts['institution']}（统一社会信用代码 {facts['uscc']}）（电子签名）"), body),
            Spacer(1, 45 * mm)]      # room for the two seals at the foot of the last page
    buf = io.BytesIO()
    SimpleDocTemplate(buf, pagesize=A4, leftMargin=22 * mm, rightMargin=22 * mm, topMargin=20 * mm,
                      bottomMargin=16 * mm, title=title, author=facts["firm"],
                      subject=f"KYC {facts['case_id']} {defn['kind']}").build(out)
    return buf.getvalue()


# ---- trust and the client's event certificate -------------------------------------------------
def _pki_dir() -> Path:
    return Path(os.environ.get("OTCLAB_KYC_PKI") or data_dir() / "pki")


def _paths(env: str) -> list[Path]:
    return [Path(p) for p in (os.environ.get(env) or "").split(os.pathsep) if p.strip()]


def trust_store():
    """The trust store agreements are verified under: ``OTCLAB_KYC_TRUST_ROOTS`` (PEM files, ``:``
    separated), else the root of the PKI folder (``OTCLAB_KYC_PKI``, default ``<data>/pki``), plus
    the client CA's certificate when one is configured; CRLs from ``OTCLAB_KYC_TRUST_CRLS``, else
    the PKI folder's ``crl.pem``."""
    from ..esign.pki import TrustStore, load_certificates, load_crls

    pki = _pki_dir()
    roots = _paths("OTCLAB_KYC_TRUST_ROOTS") or ([pki / "root-ca.pem"] if (pki / "root-ca.pem").exists() else [])
    certs = [c for p in roots for c in load_certificates(p, field="OTCLAB_KYC_TRUST_ROOTS")]
    if os.environ.get("OTCLAB_KYC_CLIENT_CA_CERT"):
        certs += [c for c in load_certificates(os.environ["OTCLAB_KYC_CLIENT_CA_CERT"], "OTCLAB_KYC_CLIENT_CA_CERT")
                  if c not in certs]
    if not certs:
        raise OtcError(f"no trusted root to verify the agreements: set OTCLAB_KYC_TRUST_ROOTS, or write a PKI with "
                       f"`otclab esign demo-pki {pki}`", "OTCLAB_KYC_TRUST_ROOTS")
    crl_paths = _paths("OTCLAB_KYC_TRUST_CRLS") or ([pki / "crl.pem"] if (pki / "crl.pem").exists() else [])
    return TrustStore(roots=certs, crls=[c for p in crl_paths for c in load_crls(p, field="OTCLAB_KYC_TRUST_CRLS")])


def trust_from_pki(folder) -> object:
    """The trust store of a PKI folder written by ``otclab esign demo-pki`` (its root and CRL)."""
    from ..esign.pki import TrustStore, load_certificates, load_crls

    d = Path(folder)
    if not (d / "root-ca.pem").exists():
        raise InputError(f"{d} holds no root-ca.pem (a folder written by `otclab esign demo-pki`)", "pki")
    crls = load_crls(d / "crl.pem") if (d / "crl.pem").exists() else []
    return TrustStore(roots=load_certificates(d / "root-ca.pem", "pki"), crls=crls)


def client_ca():
    """The platform's signing CA for event certificates (``Credentials``: its key, its chain)."""
    from ..esign.pki import load_credentials

    pw = os.environ.get("OTCLAB_KYC_CLIENT_CA_PASSWORD") or None
    key = os.environ.get("OTCLAB_KYC_CLIENT_CA_KEY")
    if key:
        cert = os.environ.get("OTCLAB_KYC_CLIENT_CA_CERT")
        if not cert and not key.lower().endswith((".p12", ".pfx")):
            raise OtcError("OTCLAB_KYC_CLIENT_CA_KEY is a PEM key: set OTCLAB_KYC_CLIENT_CA_CERT to its certificate",
                           "OTCLAB_KYC_CLIENT_CA_CERT")
        return load_credentials(key, cert, pw)
    pki = _pki_dir()
    if not (pki / "root-ca.key.pem").exists():
        raise OtcError(f"no signing CA for the client's event certificate: set OTCLAB_KYC_CLIENT_CA_KEY and _CERT, "
                       f"or write a PKI with `otclab esign demo-pki {pki}`", "OTCLAB_KYC_CLIENT_CA_KEY")
    return load_credentials(pki / "root-ca.key.pem", pki / "root-ca.pem", pw)


def timestamper(trust=None):
    """The platform's RFC 3161 timestamp authority for the client's signatures, or None:
    ``OTCLAB_KYC_TSA_KEY`` (PKCS#12 or PEM key; ``_CERT``, ``_PASSWORD``), else the ``tsa`` party of
    the PKI folder (``OTCLAB_KYC_PKI``) when it has one."""
    import json

    from ..esign.pki import load_credentials
    from ..esign.pki.tsa import LocalTimestampAuthority

    key = os.environ.get("OTCLAB_KYC_TSA_KEY")
    if key:
        cred = load_credentials(key, os.environ.get("OTCLAB_KYC_TSA_CERT"), os.environ.get("OTCLAB_KYC_TSA_PASSWORD"))
    else:
        manifest = _pki_dir() / "pki.json"
        if not manifest.exists():
            return None
        m = json.loads(manifest.read_text(encoding="utf-8"))
        party = (m.get("parties") or {}).get("tsa")
        if not party:
            return None
        cred = load_credentials(_pki_dir() / party["p12"], None,
                                os.environ.get("OTCLAB_KYC_TSA_PASSWORD") or m.get("pkcs12_password"))
    return LocalTimestampAuthority(cred, trust)


def event_credentials(institution: str, uscc: str, signer_name: str, login: str | None = None, *, trust=None,
                      ca=None, days: int | None = None):
    """A fresh key and an event certificate for one signature on behalf of ``institution``: issued
    by the platform's signing CA (``client_ca``), checked under ``trust`` (default
    ``trust_store()``) for document signing before it is returned. The caller discards it after
    the signature."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    from ..esign.pki import Credentials, check_certificate
    from ..esign.pki.checks import DOCUMENT_SIGNING

    if not (signer_name or "").strip():
        raise InputError("the signer's name is required for an event certificate", "signer")
    ca = ca or client_ca()
    trust = trust or trust_store()
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    attrs = [x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"), x509.NameAttribute(NameOID.ORGANIZATION_NAME, institution),
             x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, uscc),
             x509.NameAttribute(NameOID.SERIAL_NUMBER, uscc), x509.NameAttribute(NameOID.COMMON_NAME, signer_name)]
    if login:
        attrs.append(x509.NameAttribute(NameOID.USER_ID, login))
    start = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=5)
    ca_cert = ca.chain[0]
    cert = (x509.CertificateBuilder().subject_name(x509.Name(attrs)).issuer_name(ca_cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(start + dt.timedelta(days=days or EVENT_CERT_DAYS))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([DOCUMENT_SIGNING]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key()), critical=False)
            .sign(ca.key, hashes.SHA256()))
    check_certificate(cert, "document", trust, extra_chain=ca.chain)
    return Credentials(key=key, chain=[cert, *ca.chain])


# ---- records -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AgreementRef:
    """One agreement of a case: the firm's certified copy and, once signed, the client's."""

    case_id: str
    counterparty_id: str
    kind: str
    title: str
    required: bool
    state: str                          # issued | signed
    issued_sha256: str
    issued_path: str
    issued_signer: str
    issued_by: str
    issued_at: dt.datetime
    issued_log_index: int | None
    signed_sha256: str | None = None
    signed_path: str | None = None
    signer_subject: str | None = None
    signed_with: str | None = None
    signed_by: str | None = None
    signed_at: dt.datetime | None = None
    signed_log_index: int | None = None

    @property
    def file(self) -> str:
        """The newest copy: the signed one once there is one."""
        return self.signed_path or self.issued_path

    def to_dict(self) -> dict:
        from dataclasses import asdict

        return {k: (v.isoformat() if isinstance(v, dt.datetime) else v) for k, v in asdict(self).items()}


def _ref(store, row) -> AgreementRef:
    base = files_dir(store)
    return AgreementRef(row.case_id, row.counterparty_id, row.kind, row.title, bool(row.required), row.state,
                        row.issued_sha256, str(base / row.issued_path), row.issued_signer, row.issued_by,
                        row.issued_at, row.issued_log_index, row.signed_sha256,
                        str(base / row.signed_path) if row.signed_path else None, row.signer_subject,
                        row.signed_with, row.signed_by, row.signed_at, row.signed_log_index)


def _rows(conn, case_id: str) -> list:
    a = T.kyc_agreements
    order = {k: i for i, k in enumerate(titles())}
    rows = conn.execute(select(a).where(a.c.case_id == case_id)).all()
    return sorted(rows, key=lambda r: (order.get(r.kind, len(order)), r.id))


def status(store, case_id: str) -> list[AgreementRef]:
    """The agreements issued for ``case_id`` (in the agreements file's order)."""
    from .cases import _case

    with store.connect() as conn:
        _case(conn, case_id)
        return [_ref(store, r) for r in _rows(conn, case_id)]


def unsigned(store, case_id: str) -> list[dict]:
    """The required agreements of ``case_id`` not signed yet: [{kind, title, issued}]."""
    rows = status(store, case_id)
    signed = {r.kind for r in rows if r.state == "signed"}
    issued = {r.kind for r in rows}
    return [{"kind": a["kind"], "title": a["title"], "issued": a["kind"] in issued} for a in definitions()
            if a["required"] and a["kind"] not in signed]


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _found(folder: Path, prefix: str):
    """Files ``<prefix><sha256>.pdf`` in ``folder`` whose bytes still hash to their name: what a
    run that crashed after writing the file and before recording it left."""
    if not folder.is_dir():
        return
    for p in sorted(folder.glob(f"{prefix}*.pdf")):
        digest = p.stem[len(prefix):]
        if re.fullmatch(r"[0-9a-f]{64}", digest):
            data = p.read_bytes()
            if _sha(data) == digest:
                yield p, data


def _log_missing(store, case_id: str) -> None:
    """Append the evidence entries of this case's agreements that lack one (a crash after the row)."""
    from .evidence import append_entry

    a = T.kyc_agreements
    with store.connect() as conn:
        rows = _rows(conn, case_id)
    for r in rows:
        if r.issued_log_index is None:
            rec = append_entry(store, "kyc.agreement_issued", {
                "case_id": r.case_id, "counterparty_id": r.counterparty_id, "kind": r.kind, "title": r.title,
                "sha256": r.issued_sha256, "size": r.issued_size, "path": r.issued_path, "signer": r.issued_signer,
                "template_sha256": r.template_sha256, "by": r.issued_by, "at": r.issued_at.isoformat()})
            with store.begin() as conn:
                conn.execute(update(a).where(a.c.id == r.id).values(issued_log_index=rec.index))
        if r.state == "signed" and r.signed_log_index is None:
            rec = append_entry(store, "kyc.agreement_signed", {
                "case_id": r.case_id, "counterparty_id": r.counterparty_id, "kind": r.kind, "title": r.title,
                "issued_sha256": r.issued_sha256, "sha256": r.signed_sha256, "size": r.signed_size,
                "path": r.signed_path, "signer": r.signer_subject, "signed_with": r.signed_with,
                "by": r.signed_by, "at": r.signed_at.isoformat()})
            with store.begin() as conn:
                conn.execute(update(a).where(a.c.id == r.id).values(signed_log_index=rec.index))


# ---- issue ---------------------------------------------------------------------------------------
def issue(store, case_id: str, *, credentials=None, by: str) -> list[AgreementRef]:
    """The firm's certified agreements of an approved case (made once; later calls return them and
    issue only what is missing, e.g. an agreement added to the file since)."""
    from ..esign.pdfsign import SealSpec, sign_pdf, verify_pdf
    from .cases import _case, view
    from .report import seal_credentials

    if not by or not str(by).strip():
        raise AgreementError("is required (who issues the agreements)", "by")
    with store.connect() as conn:
        case = _case(conn, case_id)
        have = {r.kind for r in _rows(conn, case_id)}
    if case.state != "approved":
        raise AgreementError(f"case {case_id} is {case.state}: the agreements are issued once it is approved",
                             "case_id")
    todo = [d for d in definitions() if d["kind"] not in have]
    if todo:
        v = view(store, case_id)
        facts = facts_for(v)
        template_sha = _config()[1]
        folder = files_dir(store) / FOLDER / case_id
        cred, trust = None, None
        for d in todo:
            sealed = None
            for p, data in _found(folder, f"{d['kind']}-"):
                if trust is None:
                    try:
                        trust = trust_store()
                    except OtcError:
                        trust = False
                rep = verify_pdf(data, trust) if trust else None
                if rep is None or (rep["ok"] and rep["count"] == 1):
                    sealed = data
                    log.info("agreement %s of %s: found %s from an earlier run", d["kind"], case_id, p.name)
                    break
            if sealed is None:
                if cred is None:
                    cred = credentials or seal_credentials()
                sealed = sign_pdf(render(d, facts), cred.signer(), field_name=DEALER_FIELD, certify=True,
                                  later_fields=[CLIENT_FIELD],
                                  seal=SealSpec(lines=["甲方电子签章：%(signer)s", "签署时间：%(ts)s"]),
                                  reason=f"{d['title']} {case_id}", location="上海")
            digest = _sha(sealed)
            rel = Path(FOLDER) / case_id / f"{d['kind']}-{digest}.pdf"
            path = files_dir(store) / rel
            if not path.exists():
                write_atomic(path, sealed)
            signer = _first_signer(sealed)
            try:
                with store.begin() as conn:
                    conn.execute(insert(T.kyc_agreements).values(
                        case_id=case_id, counterparty_id=case.counterparty_id, kind=d["kind"],
                        title=d["title"], required=1 if d["required"] else 0, state="issued",
                        template_sha256=template_sha, issued_sha256=digest, issued_path=str(rel),
                        issued_size=len(sealed), issued_signer=signer, issued_by=by, issued_at=now()))
            except IntegrityError:              # issued at the same time by another process: theirs stands
                log.info("agreement %s of %s was issued concurrently", d["kind"], case_id)
    _log_missing(store, case_id)
    return status(store, case_id)


def _first_signer(data: bytes) -> str:
    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        sigs = PdfFileReader(io.BytesIO(data), strict=False).embedded_signatures
        return sigs[0].signer_cert.subject.human_friendly if sigs else ""
    except Exception:  # noqa: BLE001 - only a label: the signature itself is verified where it matters
        return ""


def issue_after_approval(store, case_id: str, by: str) -> list[AgreementRef] | None:
    """``issue`` right after the final approval. A failure (no seal configured, ...) leaves the
    approval standing: it is recorded as the case's event ``agreements_failed`` (history and
    evidence log) with the reason and how to finish, and logged; None is returned."""
    from .evidence import add_event, catch_up

    try:
        return issue(store, case_id, by=by)
    except Exception as e:  # noqa: BLE001 - whatever it is, the approval stands and the reason is shown
        reason = e.message if isinstance(e, OtcError) else f"{type(e).__name__}: {e}"
        log.warning("case %s approved, but its agreements were not issued: %s", case_id, reason)
        with store.begin() as conn:
            add_event(conn, case_id, "agreements_failed", "system", "approved", from_state="approved",
                      comment=f"协议未能生成 the agreements were not issued: {reason}; "
                              f"issue them with `otclab kyc agreements issue {case_id}`",
                      details={"error": reason})
        catch_up(store)
        return None


def issue_failure(store, case_id: str) -> str | None:
    """The reason the agreements of ``case_id`` are not issued, if issuing failed and nothing is
    issued since."""
    with store.connect() as conn:
        if _rows(conn, case_id):
            return None
        e = T.kyc_events
        row = conn.execute(select(e.c.comment).where(e.c.case_id == case_id, e.c.action == "agreements_failed")
                           .order_by(e.c.seq.desc()).limit(1)).first()
    return row.comment if row else None


# ---- sign ----------------------------------------------------------------------------------------
def sign(store, case_id: str, kind: str, client_credentials, trust, *, by: str,
         signed_with: str = "certificate", tsa=None) -> AgreementRef:
    """The client's signature on one issued agreement (see the module docstring); the row after.
    ``tsa``: the timestamp authority (default ``timestamper()``, none when not configured)."""
    from ..esign.pdfsign import SealSpec, sign_pdf, verify_pdf
    from .cases import _case

    if not by or not str(by).strip():
        raise AgreementError("is required (who signs)", "by")
    if signed_with not in ("certificate", "event"):
        raise AgreementError(f"signed_with must be certificate or event; got {signed_with!r}", "signed_with")
    _log_missing(store, case_id)
    a = T.kyc_agreements
    with store.connect() as conn:
        case = _case(conn, case_id)
        rows = {r.kind: r for r in _rows(conn, case_id)}
    if case.state != "approved":
        raise AgreementError(f"case {case_id} is {case.state}: its agreements are signed once it is approved "
                             "and they are issued", "case_id")
    if kind not in rows:
        if not rows:
            raise AgreementError(f"case {case_id} has no agreements issued yet (otclab kyc agreements issue "
                                 f"{case_id})", "case_id")
        raise AgreementError(f"unknown agreement kind {kind!r} for case {case_id}; allowed: {', '.join(rows)}", "kind")
    row = rows[kind]
    if row.state != "issued":
        when = row.signed_at.astimezone(CST).strftime("%Y-%m-%d %H:%M")
        raise AgreementError(f"{row.title} of case {case_id} is already signed ({when} by {row.signed_by}, "
                             f"{row.signer_subject})", "kind")
    base = files_dir(store)
    try:
        data = (base / row.issued_path).read_bytes()
    except OSError as e:
        raise AgreementError(f"the stored copy {row.issued_path} cannot be read: {e.strerror}", "document") from None
    if _sha(data) != row.issued_sha256:
        raise AgreementError(f"the stored copy {row.issued_path} no longer has its recorded SHA-256 "
                             f"{row.issued_sha256[:16]}…: it was changed after issue; not signed", "document")
    before = verify_pdf(data, trust)
    if not before["ok"] or before["count"] != 1:
        probs = "; ".join(p for s in before["signatures"] for p in s.get("problems", [])) or "no signature"
        raise AgreementError(f"the firm's seal on {row.title} does not verify: {probs}", "document")
    signed = None
    for p, found in _found(base / FOLDER / case_id, f"{kind}-signed-"):
        if found.startswith(data):             # an earlier run signed this copy and crashed before the row
            rep = verify_pdf(found, trust)
            if rep["ok"] and rep["count"] == 2:
                signed, report = found, rep
                break
    if signed is None:
        signed = sign_pdf(data, client_credentials.signer(), field_name=CLIENT_FIELD, trust=trust,
                          seal=SealSpec(lines=["乙方电子签名：%(signer)s", "签署时间：%(ts)s"]),
                          reason=f"签署 {row.title}", timestamper=tsa if tsa is not None else timestamper(trust))
        report = verify_pdf(signed, trust)
    if not report["ok"] or report["count"] != 2:
        probs = "; ".join(p for s in report["signatures"] for p in s.get("problems", []))
        raise AgreementError(f"the signed {row.title} does not verify ({report['count']} signature(s)): {probs}",
                             "document")
    digest = _sha(signed)
    rel = Path(FOLDER) / case_id / f"{kind}-signed-{digest}.pdf"
    if not (base / rel).exists():
        write_atomic(base / rel, signed)
    subject = next((s.get("signer") for s in report["signatures"] if s.get("field") == CLIENT_FIELD), None) or ""
    with store.begin() as conn:
        done = conn.execute(update(a).where(a.c.id == row.id, a.c.state == "issued").values(
            state="signed", signed_sha256=digest, signed_path=str(rel), signed_size=len(signed),
            signer_subject=subject, signed_with=signed_with, signed_by=by, signed_at=now())).rowcount
    if not done:
        raise AgreementError(f"{row.title} of case {case_id} was signed at the same time by another session", "kind")
    _log_missing(store, case_id)
    with store.connect() as conn:
        return _ref(store, conn.execute(select(a).where(a.c.id == row.id)).first())


def sign_online(store, user: str, kinds: list[str] | None = None) -> list[AgreementRef]:
    """The logged-in client signs its case's agreements (``kinds``, default every one not signed
    yet) in the web form, each with a fresh event certificate for its institution."""
    from .invitations import case_for_user

    case_id = case_for_user(store, user) if user else None
    if case_id is None:
        raise AgreementError(f"{user or 'nobody'} has no KYC case: only the client whose case it is signs its "
                             "agreements", "user")
    with store.connect() as conn:
        c, i = T.kyc_cases, T.kyc_invitations
        case = conn.execute(select(c.c.institution, c.c.uscc, i.c.contact_name)
                            .join(i, i.c.invitation_id == c.c.invitation_id).where(c.c.case_id == case_id)).first()
    rows = status(store, case_id)
    if kinds is None:
        kinds = [r.kind for r in rows if r.state == "issued"]
        if not kinds:
            raise AgreementError(f"case {case_id} has no agreement waiting for a signature"
                                 + ("" if rows else " (none issued yet)"), "kind")
    from .cases import view

    institution = view(store, case_id).institution or case.institution
    trust = trust_store()
    tsa = timestamper(trust)
    days = EVENT_CERT_TIMESTAMPED_DAYS if tsa is not None else EVENT_CERT_DAYS
    out = []
    for k in kinds:
        cred = event_credentials(institution, case.uscc, case.contact_name or user, user, trust=trust, days=days)
        try:
            out.append(sign(store, case_id, k, cred, trust, by=user, signed_with="event", tsa=tsa))
        finally:
            del cred                     # the event key is used for this one signature only
    return out

