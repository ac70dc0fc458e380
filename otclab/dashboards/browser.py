"""Debian's Chromium under Playwright, for the browser tests, the dashboard benchmark and its
screenshots. Never ``playwright install``: the browser is the system package (scripts/system-packages)."""
from __future__ import annotations

import os
import shutil

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]


def chromium_path() -> str | None:
    """The system Chromium (``OTCLAB_CHROMIUM`` overrides), or None."""
    for p in (os.environ.get("OTCLAB_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium"),
              shutil.which("chromium-browser")):
        if p and os.path.exists(p):
            return p
    return None


def launch(playwright, headless: bool = True):
    """A Chromium browser from a ``sync_playwright()`` handle."""
    path = chromium_path()
    if path is None:
        raise RuntimeError("no Chromium: install Debian's chromium (scripts/system-packages)")
    return playwright.chromium.launch(executable_path=path, args=ARGS, headless=headless)
