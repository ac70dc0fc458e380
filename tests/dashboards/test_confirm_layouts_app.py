"""The confirmation layout tool in a real browser (Playwright driving Debian's Chromium): ``panel
serve dashboards/confirm_layouts.py`` on a temporary layout folder. An operations user uploads one
sample of a layout nobody annotated (tests/confirm_layout_sample.py), sees its phrases, points
fields at their labels and values (choosing the unit of the notional and the rates), sees the
sample re-read with the draft, names the layout and saves it; the saved file is then what
extraction uses for that counterparty's documents. ``OTCLAB_SCREENSHOTS=DIR`` also writes the
screen (docs/confirm-layout-tool.png is one)."""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from confirm_layout_sample import COUNTERPARTY, WANT, draw
from otclab.dashboards.browser import chromium_path, launch
from otclab.dashboards.panel_server import ROOT, PanelServer, login

playwright = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(chromium_path() is None, reason="Debian's chromium is not installed")

APP = ROOT / "dashboards" / "confirm_layouts.py"


def _wait(cond, timeout: float, what: str, every: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def _results(page) -> dict:
    """The re-read fields table: field -> (value, accepted)."""
    rows = page.locator(".lt-results .tabulator-row").evaluate_all(
        "rs => rs.map(r => Object.fromEntries([...r.querySelectorAll('.tabulator-cell')].map("
        "c => [c.getAttribute('tabulator-field'), c.textContent.trim()])))")
    return {r["field"]: (r["value"], r["accepted"]) for r in rows}


def _message(page) -> str:
    loc = page.locator(".lt-message div")
    return " ".join(loc.all_inner_texts())


def _pick(page, field: str, label: str, value: str, unit: str | None = None) -> None:
    page.locator(".lt-field select").select_option(field)
    if unit:
        _wait(lambda: unit in page.locator(".lt-unit select").inner_text(), 10, f"unit {unit} offered for {field}")
        page.locator(".lt-unit select").select_option(unit)
    page.locator(".lt-phrases .tabulator-cell[tabulator-field=text]", has_text=label).first.click()
    page.locator(".lt-set-label button").click()
    _wait(lambda: f"{field}: label" in _message(page), 20, f"{field}'s label to be taken")
    page.locator(".lt-phrases .tabulator-cell[tabulator-field=text]", has_text=value).first.click()
    page.locator(".lt-set-value button").click()
    _wait(lambda: f"{field}: value right" in _message(page), 20, f"{field}'s value to be placed right of its label")


def test_annotate_a_new_layout_in_the_browser(tmp_path):
    from playwright.sync_api import sync_playwright

    from otclab.confirm import layouts as L
    from otclab.confirm.extract import extract_file

    folder = tmp_path / "layouts"
    sample = draw(tmp_path / "haiyue_sample.pdf")
    log = tmp_path / "panel.log"
    (tmp_path / "logins.json").write_text(json.dumps({"ops.wang": "pw-ops", "li.trader": "pw-tr"}))
    (tmp_path / "users.toml").write_text('[users."ops.wang"]\ngroups = ["operations"]\n'
                                         '[users."li.trader"]\ngroups = ["trader"]\n', encoding="utf-8")
    env = {"OTCLAB_CONFIRM_LAYOUTS": str(folder), "OTCLAB_USERS": str(tmp_path / "users.toml")}
    with PanelServer("", app=APP, env=env, basic_auth=tmp_path / "logins.json", log=log) as server, \
            sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1300})
            login(page, server, "ops.wang", "pw-ops")
            page.locator(".lt-user", has_text="ops.wang").wait_for(timeout=60_000)
            page.locator(".lt-upload input[type=file]").set_input_files(str(sample))
            page.locator(".lt-route").wait_for(timeout=60_000)
            assert page.locator(".lt-route").inner_text() == "text"
            _wait(lambda: page.locator(".lt-phrases .tabulator-row").count() >= 15, 20, "the sample's phrases")
            # before any annotation the generic extractor reads it: the new labels are not read
            assert "generic extractor" in page.locator(".lt-used-text").inner_text()
            res = _wait(lambda: (r := _results(page)) and "participation" in r and r, 20, "the re-read fields")
            assert res["participation"][0] == "" and res["trade_id"][0] == ""
            _pick(page, "trade_id", "成交编号", "HY-2025-0611-027")
            _pick(page, "counterparty", "客户全称", COUNTERPARTY)
            _pick(page, "start_date", "起算日", "2025年6月12日")
            _pick(page, "notional", "名义本金（万元）", "5,000", unit="wan_yuan")
            _pick(page, "strike", "执行水平", "100.00%", unit="level_pct")
            _pick(page, "participation", "收益分享比例", "75.00%", unit="pct")
            _pick(page, "rebate", "保底补偿", "2.50%", unit="pct")
            # the markers were proposed from the sample's top lines; name the layout and its owner
            assert "HY-OTC-01" in page.locator(".lt-markers input").input_value()
            page.locator(".lt-id input").fill("haiyue-hy-otc-01")
            page.locator(".lt-id input").press("Enter")
            page.locator(".lt-counterparty input").fill(COUNTERPARTY)
            page.locator(".lt-counterparty input").press("Enter")
            _wait(lambda: "haiyue-hy-otc-01" in page.locator(".lt-used-text").inner_text(), 30,
                  "the sample re-read with the draft layout")
            got = _results(page)
            for f, v in WANT.items():
                if v is not None:
                    assert got[f][1] == "yes", (f, got[f])
            assert got["participation"][0] == "0.75" and got["rebate"][0] == "0.025"
            assert got["notional"][0] == "50000000.0"
            if os.environ.get("OTCLAB_SCREENSHOTS"):
                page.screenshot(path=str(Path(os.environ["OTCLAB_SCREENSHOTS"]) / "confirm-layout-tool.png"),
                                full_page=True)
            page.locator(".lt-save button").click()
            _wait(lambda: "saved" in _message(page), 30, "the layout to be saved")
            assert "by ops.wang" in _message(page)
            # a trader may open the tool but not save a layout
            other = browser.new_context().new_page()
            login(other, server, "li.trader", "pw-tr")
            other.locator(".lt-upload input[type=file]").set_input_files(str(sample))
            other.locator(".lt-route").wait_for(timeout=60_000)
            other.locator(".lt-save button").click()
            _wait(lambda: "li.trader may not save confirmation layouts" in _message(other), 30, "the refusal")
        finally:
            browser.close()
    saved = folder / "haiyue-hy-otc-01.json"
    assert saved.exists(), log.read_text()[-2000:]
    lay = L.load(saved)
    (entry,) = L.history(folder)
    assert entry["by"] == "ops.wang" and entry["layout"] == "haiyue-hy-otc-01" and entry["replaced"] is None
    assert lay.fields["participation"].labels == ["收益分享比例"] and lay.fields["notional"].unit == "wan_yuan"
    # the uploaded sample was kept beside the layouts
    assert len(list((folder / "samples").glob("*.pdf"))) == 1
    # what extraction now does with that counterparty's documents: the saved layout, every field read
    ex = extract_file(sample, layouts=L.load_all([L.SHIPPED_DIR, folder]))
    assert ex.layout == "haiyue-hy-otc-01" and ex.fields == WANT
