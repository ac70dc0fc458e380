"""Helpers of the confirmation-against-the-book tests: trades booked in a store, their
confirmations printed (or scanned), mail settings pointing at the local SMTP server."""
from __future__ import annotations

import random

from otclab.mail.config import MailConfig, SmtpSettings

TRADER, TRADER_MAIL, OPS_MAIL = "zhang.san", "zhang.san@desk.test", "ops@desk.test"


def _raw(seed: int, template: str, trade_id: str, cp: str = "CP001", **terms) -> dict:
    from otclab.confirm.corpus import random_trade

    raw = random_trade(random.Random(seed), template).to_dict()
    for k in ("status", "version", "uti", "template_version", "premium_date"):
        raw.pop(k, None)
    raw.update(trade_id=trade_id, trader=TRADER, counterparty={**raw["counterparty"], "id": cp})
    raw["terms"].update(terms)
    return raw


def book(store, raws):
    from otclab.workflows.trades import book as book_trades

    try:  # booking refuses counterparties not onboarded (KYC), where that check exists
        from otclab.kyc.demo import onboard
    except ImportError:
        onboard = None
    if onboard is not None:
        onboard(store, [{"id": r["counterparty"]["id"], "name": r["counterparty"]["name"]} for r in raws], by="test")
    from otclab.core.dates import Date

    return book_trades(store, raws, recorded_by=TRADER, as_of=Date(2025, 1, 2))


def render(raw: dict, path, scan_seed: int | None = None):
    from otclab.confirm.degrade import ScanDefects, scan_pdf
    from otclab.confirm.generate import Style, render_confirmation
    from otclab.confirm.trade import read_trade

    rec = read_trade(raw)
    if scan_seed is None:
        return render_confirmation(rec, path, Style(layout="table2"))
    text = render_confirmation(rec, path.with_name(path.stem + ".text.pdf"), Style(layout="table2"))
    return scan_pdf(text, path, ScanDefects(dpi=200, rotation_deg=0.6, blur_radius=0.4, noise_sigma=4.0,
                                            jpeg_quality=70), seed=scan_seed)


def mail_cfg(port: int) -> MailConfig:
    return MailConfig(SmtpSettings(host="127.0.0.1", port=port, sender="otclab@desk.test", timeout_s=5),
                      backoff_s=30, max_backoff_s=600,
                      addresses={TRADER: TRADER_MAIL, "operations": OPS_MAIL})


def rows(store, table):
    with store.connect() as c:
        return [dict(r._mapping) for r in c.execute(table.select().order_by(table.c.id))]
