"""Shared fixtures: a small generated corpus (text PDFs and degraded scans) and booked trades."""
from __future__ import annotations

import os
import random

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def small_corpus(tmp_path_factory):
    """Eight confirmations (seed 11, not the benchmark's default seed), half of them scans."""
    from otclab.confirm.corpus import build_corpus

    folder = tmp_path_factory.mktemp("corpus")
    truth = build_corpus(folder, n=8, seed=11)
    return folder, truth


@pytest.fixture()
def trade():
    from otclab.confirm.corpus import random_trade

    return random_trade(random.Random(5), "snowball")


@pytest.fixture()
def text_pdf(tmp_path, trade):
    from otclab.confirm.generate import Style, render_confirmation

    return render_confirmation(trade, tmp_path / "conf.pdf", Style(layout="table4"))
