"""Online confirmation: printed from the booked trade, sealed by the dealer, signed by the client.

``issue`` renders the confirmation of a booked trade's current version
(``generate.render_confirmation``), has the dealer *certify* it with the firm's PAdES seal
(``otclab.esign.pdfsign.sign_pdf``: DocMDP, only further signatures allowed afterwards, an empty
``client`` seal field created for the counterparty), attaches the sealed copy to the trade
(``online_issued``) and records the trade ``issued`` by the online route.

``countersign`` has the client sign that copy in its ``client`` field (a second, approval
signature), verifies both signatures against the trust store (``verify_pdf``: intact, trusted,
covering the document), attaches the signed copy (``online_signed``) and marks the trade
``confirmed`` with route ``online``: this replaces the paper route for the trade (a paper copy
arriving later is attached beside it and confirms nothing more). A trade amended after its issue
is refused: its confirmation must be issued again.

Each step is appended to the evidence log (``otclab.esign.evidence``): the signature records
(``pdf.signed``) and ``confirm.issued`` / ``confirm.countersigned`` with the trade, its version,
the document hashes and the user.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

from sqlalchemy import select

from ..core.errors import InputError
from ..store import tables_confirm as TC
from ..store.book import load_book
from . import attach as A

DEALER_FIELD, CLIENT_FIELD = "dealer", "client"


def _trade(conn, trade_id: str):
    found = load_book(conn, trade_ids=[trade_id])
    if not found:
        raise InputError(f"no trade {trade_id!r} in the store", "trade_id")
    if found[0].status == "cancelled":
        raise InputError(f"trade {trade_id} is cancelled: nothing to confirm", "trade_id")
    return found[0]


def issue(store, trade_id: str, dealer, *, by: str, evidence=None, timestamper=None, trust=None,
          documents: Path | None = None, style=None) -> dict:
    """Print, seal (``dealer``: ``Credentials`` of the firm's seal) and attach the online
    confirmation of ``trade_id``; its sha256, stored path, attachment version and file."""
    from ..esign.pdfsign import SealSpec, sign_pdf
    from .generate import render_confirmation

    with store.connect() as conn:
        st = _trade(conn, trade_id)
        state = A.confirmation_state(conn, trade_id)
    if state and state["state"] == "confirmed" and state["route"] == "online":
        raise InputError(f"trade {trade_id} is already confirmed online ({state['at']:%Y-%m-%d} by {state['by']})",
                         "trade_id")
    rec = st.record
    with tempfile.TemporaryDirectory() as tmp:
        pdf = render_confirmation(rec, Path(tmp) / f"{rec.trade_id}.pdf", style)
        data = pdf.read_bytes()
    sealed = sign_pdf(data, dealer.signer(), field_name=DEALER_FIELD, certify=True, later_fields=[CLIENT_FIELD],
                      seal=SealSpec(lines=["卖方电子签章：%(signer)s", "签署时间：%(ts)s"]), timestamper=timestamper,
                      reason=f"交易确认书 {rec.trade_id} v{rec.version}", trust=trust, evidence=evidence)
    digest, rel = A.store_bytes(sealed, documents)
    name = f"{rec.trade_id}_v{rec.version}_online.pdf"
    with store.begin() as conn:
        att, _ = A.attach(conn, rec.trade_id, sha256=digest, file_name=name, path=rel, size=len(sealed),
                          kind="online_issued", by=by)
        A.record_confirmation(conn, rec.trade_id, rec.version, "issued", "online", by, attachment_id=att["id"])
    if evidence is not None:
        evidence.append("confirm.issued", {"trade_id": rec.trade_id, "trade_version": rec.version,
                                           "input_sha256": A.sha256_bytes(data), "sealed_sha256": digest, "by": by})
    return {"trade_id": rec.trade_id, "trade_version": rec.version, "sha256": digest, "path": rel,
            "attachment_version": att["version"], "file": A.document_path(rel, documents)}


def issued_copy(conn, trade_id: str) -> dict:
    """The attachment of the latest online issue of ``trade_id``."""
    a = TC.trade_attachments
    row = conn.execute(select(a).where(a.c.trade_id == trade_id, a.c.kind == "online_issued")
                       .order_by(a.c.version.desc()).limit(1)).first()
    if row is None:
        raise InputError(f"trade {trade_id} has no online confirmation issued (otclab confirm issue {trade_id})",
                         "trade_id")
    return dict(row._mapping)


def countersign(store, trade_id: str, client, trust, *, by: str, evidence=None, timestamper=None,
                documents: Path | None = None) -> dict:
    """The client's signature on the issued copy, both signatures verified, the signed copy
    attached and the trade confirmed online; the verification report and the stored copy."""
    from ..esign.pdfsign import SealSpec, sign_pdf, verify_pdf

    with store.connect() as conn:
        st = _trade(conn, trade_id)
        state = A.confirmation_state(conn, trade_id)
        issued = issued_copy(conn, trade_id)
    if state is None or state["state"] != "issued" or state["route"] != "online":
        now_ = f"{state['state']} ({state['route']})" if state else "neither issued nor confirmed"
        raise InputError(f"trade {trade_id} is {now_}; only an issued online confirmation is countersigned",
                         "trade_id")
    if state["trade_version"] != st.record.version:
        raise InputError(f"trade {trade_id} was amended (now v{st.record.version}) after its confirmation was issued "
                         f"for v{state['trade_version']}: issue it again", "trade_id")
    data = A.document_path(issued["path"], documents).read_bytes()
    if A.sha256_bytes(data) != issued["sha256"]:
        raise InputError(f"the stored copy {issued['path']} no longer has its recorded SHA-256", "document")
    before = verify_pdf(data, trust)
    if not before["ok"] or before["count"] != 1:
        raise InputError("the dealer's seal does not verify: " + "; ".join(
            p for s in before["signatures"] for p in s.get("problems", [])) or "no signature", "document")
    signed = sign_pdf(data, client.signer(), field_name=CLIENT_FIELD, timestamper=timestamper, trust=trust,
                      seal=SealSpec(lines=["买方电子签名：%(signer)s", "签署时间：%(ts)s"]),
                      reason=f"确认 {trade_id}", evidence=evidence)
    report = verify_pdf(signed, trust)
    if not report["ok"] or report["count"] != 2:
        raise InputError("the countersigned copy does not verify: " + "; ".join(
            p for s in report["signatures"] for p in s.get("problems", [])), "document")
    digest, rel = A.store_bytes(signed, documents)
    with store.begin() as conn:
        att, _ = A.attach(conn, trade_id, sha256=digest, file_name=f"{trade_id}_v{st.record.version}_signed.pdf",
                          path=rel, size=len(signed), kind="online_signed", by=by)
        A.record_confirmation(conn, trade_id, st.record.version, "confirmed", "online", by, attachment_id=att["id"])
    if evidence is not None:
        evidence.append("confirm.countersigned", {"trade_id": trade_id, "trade_version": st.record.version,
                                                  "issued_sha256": issued["sha256"], "signed_sha256": digest,
                                                  "signers": [s.get("signer") for s in report["signatures"]],
                                                  "by": by})
    return {"trade_id": trade_id, "sha256": digest, "path": rel, "attachment_version": att["version"],
            "file": A.document_path(rel, documents), "verification": report}
