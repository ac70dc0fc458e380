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
