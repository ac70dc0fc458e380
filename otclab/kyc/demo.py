"""The demo's client master: the demo counterparties, onboarded before the platform, brought in
the way operations brings in any existing client (a client-master CSV through ``import_clients``,
the same path as ``otclab kyc import``)."""
from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

from .clients import import_clients, parse_import


def clients_csv(counterparties, review_date: dt.date | None = None, c_level: int = 5) -> str:
    """A client-master CSV of ``counterparties`` ([{id, name, uscc}]): approved, C5 (OTC options
    are R5), reviewed on ``review_date`` (default today), documents valid for five more years."""
    review_date = review_date or dt.date.today()
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["counterparty_id", "name", "uscc", "status", "c_level", "review_date", "docs_valid_until", "eligible_otc"])
    for cp in counterparties:
        w.writerow([cp["id"], cp["name"], cp.get("uscc") or "", "approved", f"C{c_level}", review_date.isoformat(),
                    (review_date + dt.timedelta(days=5 * 365)).isoformat(), "yes"])
    return buf.getvalue()


def import_demo_clients(store, counterparties, folder=None, by: str = "demo") -> int:
    """Import the demo counterparties into the client master (writes ``folder/clients.csv`` too)."""
    text = clients_csv(counterparties)
    name = "clients.csv"
    if folder is not None:
        p = Path(folder) / "clients.csv"
        p.write_text(text, encoding="utf-8")
        name = str(p)
    return import_clients(store, parse_import(text), by, name)


def onboard(store, counterparties, by: str = "operations", c_level: int = 5) -> int:
    """Bring existing clients into the client master as approved (operations' bulk import of a
    client list): ``counterparties`` are ids or {id, name, uscc?} dicts."""
    cps = [c if isinstance(c, dict) else {"id": c, "name": c} for c in counterparties]
    seen, uniq = set(), []
    for c in cps:
        if c["id"] not in seen:
            seen.add(c["id"])
            uniq.append(c)
    return import_clients(store, parse_import(clients_csv(uniq, c_level=c_level)), by, "client list")
