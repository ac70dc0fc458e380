"""Quoting refuses a template version that is not approved (SQLite and PostgreSQL): the request is
a failed quote on the blotter naming the template, its version and its state, never a price."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "quotes"))
from quotes_support import AES_KEY, TOKEN, inbound, seed_store  # noqa: E402

from gov_support import notebook, onboard, reviewed  # noqa: E402

VANILLA = "@报价机器人 500 看涨 平值 3个月 名义1000万 期权费多少"


@pytest.fixture
def quoting(store, tmp_path):
    from otclab.workflows.demo import counterparties
    from otclab.workflows.quotes import service
    from otclab.workflows.quotes.config import QuoteConfig

    seed_store(store)
    cp = counterparties(7, 7)[0]
    onboard(store, [{"id": cp["id"], "name": cp["name"], "uscc": cp["uscc"]}])
    service.configure(QuoteConfig(token=TOKEN, encoding_aes_key=AES_KEY,
                                  webhook_url="http://127.0.0.1:9/cgi-bin/webhook/send?key=unused",
                                  evidence_log=str(tmp_path / "evidence.sqlite")))
    yield service
    service.configure(None)


def test_a_draft_version_is_not_quoted_and_the_shipped_one_is(quoting, store, desk):
    from otclab.templates.loader import get_template

    assert quoting.receive(store, inbound(VANILLA))
    assert quoting.process_pending(store) == 1
    (ok,) = quoting.list_quotes(store)
    assert ok["state"] == "pending_approval"           # the shipped version: approved by the manifest
    notebook(desk, "vanilla", reviewed)               # the desk edits the template: a draft version
    draft = get_template("vanilla").version
    assert quoting.receive(store, inbound(VANILLA))
    assert quoting.process_pending(store) == 1
    q = next(x for x in quoting.list_quotes(store) if x["quote_id"] != ok["quote_id"])
    assert q["state"] == "failed"
    assert q["error"] == (f"template_version: template vanilla version {draft} is draft, not approved: it cannot be "
                          f"used to quote (validate it (otclab payoffs validate vanilla), then risk control compares "
                          f"and approves it; otclab payoffs status)")
    # a trader's edit reprices with the same draft version: refused the same way, nothing written
    from otclab.workflows.quotes.errors import QuoteError

    with pytest.raises(QuoteError, match=f"template vanilla version {draft} is draft, not approved"):
        quoting.edit_quote(store, q["quote_id"], "notional", 20_000_000, "zhang.wei")
    assert len(quoting.list_quotes(store)) == 2
