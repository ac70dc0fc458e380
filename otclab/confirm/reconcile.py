"""Reconcile an extracted confirmation with the booked trade.

``reconcile(extracted, trade)`` compares every field the booked ``TradeRecord`` implies
(``trade.confirmation_fields``, the confirmation's own vocabulary) with what was read from the
counterparty's document and returns one ``Mismatch`` per difference, with both values. A field
the document does not show is a mismatch of kind ``missing``; a field the document shows but the
booking does not have is kind ``unexpected`` (e.g. a barrier on a trade booked as vanilla).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

from ..store.record import TradeRecord
from .accuracy import same_value
from .extract import FIELDS
from .trade import confirmation_fields
from .values import id_key


@dataclass
class Mismatch:
    field: str
    booked: object
    document: object
    kind: str  # different | missing | unexpected

    def to_json(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        return f"{self.field}: booked {self.booked!r}, document {self.document!r} ({self.kind})"


def reconcile(extracted: dict, trade: TradeRecord) -> list[Mismatch]:
    """Mismatches between the fields extracted from a confirmation and the booked trade."""
    expected = confirmation_fields(trade)
    out = []
    for f in FIELDS:
        b, d = expected.get(f), extracted.get(f)
        if b is None and d is None:
            continue
        if b is None:
            out.append(Mismatch(f, None, d, "unexpected"))
        elif d is None:
            out.append(Mismatch(f, b, None, "missing"))
        elif not same_value(f, b, d):
            out.append(Mismatch(f, b, d, "different"))
    return out


def review_items(extraction: dict, trade: TradeRecord, layouts: list | None = None) -> list[dict]:
    """What stops a confirmation (an extraction's JSON: fields, confidence, layout) being accepted
    against ``trade`` unattended, one item per field: every ``Mismatch`` (kind different, missing,
    unexpected) and every field read below its confidence threshold (``layouts.threshold``;
    kind ``low_confidence`` when the value agrees with the booking: a person must still look).
    Each item: field, booked, document, kind, confidence (None when not read), threshold."""
    from . import layouts as L

    fields, conf = extraction["fields"], extraction.get("confidence") or {}
    lay = extraction.get("layout")
    lays = (L.load_all() if layouts is None else layouts) if lay is not None else None
    low = set(L.below_threshold({"fields": fields, "confidence": conf, "layout": lay}, lays))
    expected = confirmation_fields(trade)
    out = []
    for m in reconcile(fields, trade):
        if m.field == "trade_id" and m.document and id_key(str(m.document)) == id_key(trade.uti):
            continue  # the document names the trade by its UTI
        out.append({**m.to_json(), "confidence": conf.get(m.field), "threshold": L.threshold(m.field, lay, lays)})
        low.discard(m.field)
    for f in FIELDS:
        if f in low:
            out.append({"field": f, "booked": expected.get(f), "document": fields.get(f), "kind": "low_confidence",
                        "confidence": conf.get(f), "threshold": L.threshold(f, lay, lays)})
    return out
