"""Helpers of the quote-workflow tests: the demo market, contacts, settings, messages as W's
callback hands them over."""
from __future__ import annotations

import datetime as dt
import functools
import importlib.util
import itertools
from pathlib import Path

from otclab.book.synthetic import UNDERLYINGS
from otclab.core.dates import Date
from otclab.workflows.demo import base_market

MARKET_DATE = Date(2025, 12, 30)
TOKEN = "QDG6eK"
AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
_ids = itertools.count(1)


@functools.lru_cache(maxsize=1)
def store_fixtures():
    """tests/store/conftest.py as a module: its fixtures (SQLite and PostgreSQL) and ``new_url``."""
    spec = importlib.util.spec_from_file_location("_store_fixtures", Path(__file__).parents[1] / "store" / "conftest.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def market() -> dict:
    return base_market(MARKET_DATE, UNDERLYINGS)


def seed_store(st) -> None:
    """The demo market and three contacts: client01 approved, client06 pending, client07 blocked."""
    from otclab.store import markets
    from otclab.workflows.demo import counterparties
    from otclab.kyc.demo import onboard
    from otclab.workflows.quotes import contacts

    with st.begin() as c:
        markets.put(c, market(), "test")
    cps = counterparties(7, 7)
    contacts.add(st, "client01", cps[0]["id"], cps[0]["name"], cps[0]["uscc"], "approved", by="test")
    onboard(st, [cps[0]], by="test-operations")   # quoting and booking need the client onboarded (KYC)
    contacts.add(st, "client06", cps[5]["id"], cps[5]["name"], cps[5]["uscc"], "pending", by="test")
    contacts.add(st, "client07", cps[6]["id"], cps[6]["name"], cps[6]["uscc"], "blocked", by="test")


def inbound(text: str, sender: str = "client01", msgid: str | None = None, response_url: str | None = None,
            webhook_url: str | None = None, chat_id: str | None = "wrkSFfCgAAtest", msgtype: str = "text"):
    """A message as W's callback hands it to the sink (``InboundMessage``)."""
    from otclab.wecom.callback import InboundMessage

    msgid = msgid or f"msg-{next(_ids)}-{dt.datetime.now().timestamp()}"
    return InboundMessage(channel="robot", msgid=msgid, raw_body=b'{"encrypt":"..."}',
                          query={"msg_signature": "x", "timestamp": "1", "nonce": "2"}, plaintext="{}", text=text,
                          sender=sender, chat_id=chat_id, chat_type="group" if chat_id else "single",
                          response_url=response_url, webhook_url=webhook_url, msgtype=msgtype,
                          received_at=dt.datetime.now(dt.timezone.utc))

