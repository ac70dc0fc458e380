"""PAdES signing: two signers with visible Chinese seals and timestamps, validation, tampering."""
from __future__ import annotations

import io
import re

import pytest
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader

from otclab.esign.errors import CertificateError, InputError
from otclab.esign.pdfsign import sign_pdf, verify_pdf
from otclab.esign.pki.demo import build_demo_pki


def test_dealer_then_client_signatures_validate(both_signed, trust, pki):
    report = verify_pdf(both_signed, trust)
    assert report["ok"] and report["count"] == 2, report
    dealer, client = report["signatures"]
    assert dealer["field"] == "dealer" and client["field"] == "client"
    assert "示例证券股份有限公司" in dealer["signer"] and "示例私募基金管理有限公司" in client["signer"]
    for s in (dealer, client):
        assert s["intact"] and s["valid"] and s["trusted"] and not s["revoked"]
        assert s["timestamp"]["present"] and s["timestamp"]["trusted"] and "Timestamp Authority" in s["timestamp"]["tsa"]
    # the dealer certified revision is followed only by the client's form filling (signature)
    assert dealer["coverage"] == "entire_revision" and dealer["later_modifications"] == "form_filling"
    assert dealer["whole_document"] and client["coverage"] == "entire_file"


def test_seal_appearance_embeds_cjk_font_with_chinese_text(both_signed):
    reader = PdfFileReader(io.BytesIO(both_signed))
    sig_fields = reader.root["/AcroForm"]["/Fields"]
    fonts = []
    for f in sig_fields:
        field = f.get_object()
        ap = field["/AP"]["/N"].get_object()
        assert field["/Rect"][2] - field["/Rect"][0] > 100  # visible seal, not an invisible signature
        for _, font in ap["/Resources"]["/Font"].items():
            fonts.append(font.get_object())
    assert fonts and all(f["/Subtype"] == "/Type0" for f in fonts)
    assert any("WenQuanYi" in str(f["/BaseFont"]) for f in fonts)
    mapped = set().union(*(_unicode_in_cmap(f["/ToUnicode"].get_object().data) for f in fonts))
    assert set("甲方乙客户电子签章示例证券股份有限公司私募基金管理") <= mapped


def _unicode_in_cmap(cmap: bytes) -> set[str]:
    """Characters a ToUnicode CMap maps to (bfchar entries and bfrange ranges/arrays)."""
    text = cmap.decode("latin-1")
    out: set[str] = set()
    for block in re.findall(r"beginbfchar(.*?)endbfchar", text, re.S):
        for _src, dst in re.findall(r"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>", block):
            out.add(bytes.fromhex(dst).decode("utf-16-be"))
    for block in re.findall(r"beginbfrange(.*?)endbfrange", text, re.S):
        for lo, hi, rest in re.findall(r"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>\s*(\[[^\]]*\]|<[0-9a-fA-F]+>)", block):
            if rest.startswith("["):
                out.update(bytes.fromhex(d).decode("utf-16-be") for d in re.findall(r"<([0-9a-fA-F]+)>", rest))
            else:
                start = int(rest[1:-1], 16)
                out.update(chr(start + k) for k in range(int(hi, 16) - int(lo, 16) + 1))
    return out


def test_one_flipped_byte_in_signed_content_is_detected(both_signed, trust):
    i = both_signed.index(b"Notional CNY 10,000,000") + 10
    bad = bytearray(both_signed)
    bad[i] ^= 0x01
    report = verify_pdf(bytes(bad), trust)
    assert not report["ok"]
    assert all(not s["intact"] for s in report["signatures"])
    assert "digest mismatch" in report["signatures"][0]["problems"][0]


def test_incremental_change_after_signing_is_reported(both_signed, trust):
    w = IncrementalPdfFileWriter(io.BytesIO(both_signed))
    page = w.root["/Pages"]["/Kids"][0].get_object()
    page["/Rotate"] = __import__("pyhanko.pdf_utils.generic", fromlist=["NumberObject"]).NumberObject(90)
    w.update_container(page)
    out = io.BytesIO()
    w.write(out)
    report = verify_pdf(out.getvalue(), trust)
    assert not report["ok"]
    client = report["signatures"][1]
    assert client["intact"] and not client["whole_document"]
    assert "does not cover the whole document" in " ".join(client["problems"])


def test_truncated_pdf_is_a_clear_error(both_signed, trust):
    with pytest.raises(InputError, match="corrupt or truncated PDF"):
        verify_pdf(both_signed[: len(both_signed) // 2], trust)
    with pytest.raises(InputError, match="not a PDF"):
        verify_pdf(b"hello", trust)


def test_expired_revoked_and_wrong_purpose_signers_refused(pki, trust, document):
    with pytest.raises(CertificateError, match="expired"):
        sign_pdf(document, pki.parties["expired"].signer(), trust=trust)
    with pytest.raises(CertificateError, match="revoked"):
        sign_pdf(document, pki.parties["revoked"].signer(), trust=trust)
    with pytest.raises(CertificateError, match="nonRepudiation"):
        sign_pdf(document, pki.parties["tls"].signer(), trust=trust)


def test_signature_from_unknown_ca_is_not_trusted(both_signed, pki):
    other = build_demo_pki()
    report = verify_pdf(both_signed, other.trust())
    assert not report["ok"]
    assert all(s["intact"] and not s["trusted"] for s in report["signatures"])


def test_already_signed_field_is_refused(both_signed, pki):
    with pytest.raises(InputError, match="already signed"):
        sign_pdf(both_signed, pki.parties["client"].signer(), field_name="client")


def test_unsigned_pdf_is_not_ok(document, trust):
    report = verify_pdf(document, trust)
    assert not report["ok"] and report["count"] == 0


def test_signing_appends_evidence(pki, trust, document, tmp_path):
    from otclab.esign.evidence import EvidenceLog
    import hashlib
    import json

    with EvidenceLog(tmp_path / "ev.sqlite") as log:
        signed = sign_pdf(document, pki.parties["dealer"].signer(), trust=trust, evidence=log)
        kind, data, _ = log.entry(0)
        rec = json.loads(data)
        assert kind == "pdf.signed" and rec["field"] == "Signature1" and not rec["timestamped"]
        assert rec["input_sha256"] == hashlib.sha256(document).hexdigest()
        assert rec["output_sha256"] == hashlib.sha256(signed).hexdigest()
    assert verify_pdf(signed, trust)["ok"]


@pytest.mark.parametrize("party,flag", [("revoked", "revoked"), ("expired", "trusted")])
def test_validation_flags_revoked_or_expired_signers(pki, trust, document, party, flag):
    """Signed without the pre-check (e.g. by another tool): validation still refuses to trust it."""
    signed = sign_pdf(document, pki.parties[party].signer())
    sig = verify_pdf(signed, trust)["signatures"][0]
    assert sig["intact"] and sig["valid"] and not sig["trusted"] and not sig["ok"]
    if flag == "revoked":
        assert sig["revoked"] and "revoked" in sig["problems"][0]


def test_signing_a_truncated_pdf_is_a_clear_error(pki, document):
    with pytest.raises(InputError, match="corrupt or truncated PDF"):
        sign_pdf(document[:-40], pki.parties["dealer"].signer())


def test_an_unreadable_later_signature_is_not_ignored(both_signed, trust):
    # altering the last signature's /SubFilter makes pyHanko skip that signature entirely
    pos = both_signed.rindex(b"/ETSI.CAdES.detached") + 2
    bad = bytearray(both_signed)
    bad[pos] ^= 0x01
    report = verify_pdf(bytes(bad), trust)
    assert not report["ok"]
    assert any("signature cannot be read" in p for s in report["signatures"] for p in s["problems"])


def test_unsigned_parts_of_the_signature_container_are_guarded(both_signed, trust):
    # The CMS framing (lengths, version, digest-algorithm set) and the bundled certificates sit
    # outside what the signature covers; each altered byte there must still fail the report.
    contents = [m for m in re.finditer(rb"/Contents\s*<([0-9a-fA-F]*)>", both_signed)][-1]
    start = contents.start(1)
    for k in list(range(0, 96, 2)) + list(range(400, 1400, 50)):
        bad = bytearray(both_signed)
        bad[start + k] ^= 0x01
        try:
            report = verify_pdf(bytes(bad), trust)
        except InputError:
            continue
        assert not report["ok"], f"altered CMS byte {k // 2} went unnoticed"


def test_a_timestamped_signature_stays_trusted_after_its_certificate_expires(pki, trust, tsa, document):
    """An archived document outlives its signer's certificate: with a trusted timestamp the signer
    is checked at the time the timestamp proves; without one it must be valid at verification."""
    import datetime as dt

    from otclab.esign.pki import Credentials
    from otclab.esign.pdfsign import verify_pdf
    from otclab.kyc.agreements import event_credentials

    root = Credentials(key=pki.root_key, chain=[pki.root])
    short = event_credentials("示例机构有限公司", "91310115MA1H7GQK3W", "钱嘉禾", ca=root, trust=trust, days=1)
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=3)       # the certificate expired 2 days ago
    stamped = sign_pdf(document, short.signer(), field_name="client", timestamper=tsa, trust=trust)
    bare = sign_pdf(document, short.signer(), field_name="client", trust=trust)
    assert verify_pdf(stamped, trust)["ok"] and verify_pdf(bare, trust)["ok"]
    kept = verify_pdf(stamped, trust, at=later)
    assert kept["ok"], kept
    assert kept["signatures"][0]["timestamp"]["trusted"]
    gone = verify_pdf(bare, trust, at=later)
    assert not gone["ok"] and not gone["signatures"][0]["trusted"]
