"""The operations view of confirmation breaks in a browser (Playwright, Debian's Chromium): a
logged-in operations user opens a break, sees the fields with both values and the document, and
accepts it with a comment; the trade is confirmed in the store in that user's name.
``OTCLAB_SCREENSHOTS=DIR`` also writes the screenshot there (docs/ holds confirm-breaks.png)."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from confirm_book_support import _raw, book, mail_cfg
from smtp_server import free_port

from otclab.dashboards.browser import chromium_path, launch
from otclab.dashboards.panel_server import ROOT, PanelServer, login
from otclab.store.db import Store

playwright = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(chromium_path() is None, reason="no Chromium (scripts/system-packages)")


def _breaks(store, docs: Path) -> tuple[str, int]:
    from otclab.confirm import attach as A
    from otclab.confirm.book_confirm import confirm_document
    from otclab.confirm.extract import FIELDS
    from otclab.confirm.generate import render_confirmation
    from otclab.confirm.trade import confirmation_fields

    (rec,) = book(store, [_raw(31, "snowball", "OTC-20250902-00777")])
    pdf = render_confirmation(rec, docs.parent / "OTC-20250902-00777.pdf")
    doc = A.receive(store, pdf.read_bytes(), "scan_0042.pdf", "inbox", docs)
    fields = {f: None for f in FIELDS}
    fields.update(confirmation_fields(rec))
    fields["notional"] = rec.notional * 10
    conf = {f: 0.98 for f, v in fields.items() if v is not None}
    conf["ki_barrier"] = 0.52
    s = confirm_document(store, doc["id"], {"fields": fields, "confidence": conf, "layout": None, "warnings": []},
                         mail_cfg(free_port()))
    return rec.trade_id, s["break_id"]


def store_notional(store, tid: str) -> float:
    from otclab.store.book import load_book

    with store.connect() as c:
        return load_book(c, trade_ids=[tid])[0].record.notional


def test_an_operations_user_accepts_a_break_with_a_comment(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'otclab.db'}")
    docs = tmp_path / "documents"
    tid, bid = _breaks(store, docs)
    (tmp_path / "logins.json").write_text(json.dumps({"ops.wang": "pw-ops", "li.trader": "pw-tr"}))
    (tmp_path / "users.toml").write_text('[users."ops.wang"]\ngroups = ["operations"]\n'
                                         '[users."li.trader"]\ngroups = ["trader"]\n', encoding="utf-8")
    env = {"OTCLAB_USERS": str(tmp_path / "users.toml"), "OTCLAB_CONFIRM_DOCUMENTS": str(docs)}
    with PanelServer(store.url.render_as_string(hide_password=False), app=ROOT / "dashboards" / "confirm_breaks.py",
                     basic_auth=tmp_path / "logins.json", env=env, log=tmp_path / "panel.log") as srv, \
            playwright.sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 800})
            login(page, srv, "ops.wang", "pw-ops")
            page.locator(f".cb-open-{bid} button").click(timeout=30_000)
            fields = page.locator(".cb-fields")
            fields.wait_for(timeout=30_000)
            notional = page.locator(".cb-field-notional").inner_text()
            booked = store_notional(store, tid)
            assert f"{booked:,.2f}" in notional and f"{booked * 10:,.2f}" in notional and "different" in notional
            assert "low_confidence" in page.locator(".cb-field-ki_barrier").inner_text()
            assert "0.52" in page.locator(".cb-field-ki_barrier").inner_text()
            link = page.locator(".cb-document").get_by_text("scan_0042.pdf")
            with page.expect_download(timeout=30_000) as dl:
                link.click()
            assert Path(dl.value.path()).read_bytes() == (docs.parent / "OTC-20250902-00777.pdf").read_bytes()
            page.locator(".cb-comment textarea").fill("他方笔误 typo on their side, confirmed by phone")
            if os.environ.get("OTCLAB_SCREENSHOTS"):
                page.screenshot(path=str(Path(os.environ["OTCLAB_SCREENSHOTS"]) / "confirm-breaks.png"), full_page=True)
            page.locator(".cb-comment textarea").press("Tab")   # the text area sends its value on change
            page.locator(".cb-accept button").click()
            page.locator(".cb-message").get_by_text("accepted by ops.wang").wait_for(timeout=30_000)
        finally:
            browser.close()
    from otclab.confirm import attach as A
    from otclab.confirm.breaks import list_breaks

    with store.connect() as c:
        st = A.confirmation_state(c, tid)
    assert (st["state"], st["route"], st["by"], st["break_id"]) == ("confirmed", "paper", "ops.wang", bid)
    (closed,) = list_breaks(store, "accepted")
    assert closed["resolved_by"] == "ops.wang" and "typo" in closed["comment"]
    store.dispose()
