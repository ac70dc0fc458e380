"""Export a trade's report as a validated JSON record and FpML XML, and log the submission as evidence."""
from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from ..canonical import canonical_json
from .fpml import to_fpml
from .record import build_report
from .validate import validate_fpml, validate_json

if TYPE_CHECKING:
    from ...store.record import TradeRecord
    from ..evidence import EvidenceLog


def export_report(trade: "TradeRecord", dealer: dict[str, Any], event: dict[str, Any] | None = None,
                  evidence: "EvidenceLog | None" = None) -> dict[str, Any]:
    """{"record": dict, "json": bytes, "fpml": bytes, "receipt": dict | None}; both exports validated.
    ``trade``, ``dealer``, ``event``: as for ``build_report``.

    With ``evidence``, the submission (UTI, trade id, event, SHA-256 of both files) is appended to
    the log and the receipt (index, leaf hash, tree size and root) returned.
    """
    record = build_report(trade, dealer, event)
    validate_json(record)
    js = canonical_json(record)
    xml = to_fpml(record)
    validate_fpml(xml)
    receipt = None
    if evidence is not None:
        receipt = evidence.append(
            "report.submitted",
            {
                "uti": record["uti"], "trade_id": record["trade_id"], "event": record["lifecycle_event"],
                "product": record["product"]["id"], "template_version": record["product"]["template_version"],
                "json_sha256": hashlib.sha256(js).hexdigest(), "fpml_sha256": hashlib.sha256(xml).hexdigest(),
            },
        ).to_dict()
    return {"record": record, "json": js, "fpml": xml, "receipt": receipt}
