"""Fixtures for the WeCom adapter tests: the published vectors, and a sink that persists to a real
SQLite file (msgid UNIQUE), as the quote workflow's inbox does."""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

# A copy of the shared examples/wecom_vectors.json (Tencent's official samples, wechatpy's encrypt
# vector), kept with the tests so CI needs nothing outside the repository.
VECTORS = Path(__file__).parent / "wecom_vectors.json"


@pytest.fixture(scope="session")
def vectors() -> dict:
    return json.loads(VECTORS.read_text(encoding="utf-8"))


class SqliteInbox:
    """``sink`` and ``on_refused`` for ``create_app`` writing to a SQLite file: one row per msgid
    (a second insert of the same msgid is refused by the UNIQUE constraint -> False), one row per
    refused request."""

    def __init__(self, path: Path):
        self.path = str(path)
        with self._conn() as c:
            c.execute("""CREATE TABLE messages (id INTEGER PRIMARY KEY, msgid TEXT NOT NULL UNIQUE,
                         channel TEXT, msgtype TEXT, raw_body BLOB, query TEXT, plaintext TEXT, text TEXT,
                         sender TEXT, chat_id TEXT, chat_type TEXT, response_url TEXT, webhook_url TEXT,
                         received_at TEXT)""")
            c.execute("CREATE TABLE refused (id INTEGER PRIMARY KEY, reason TEXT, raw_body BLOB, query TEXT)")
        self.fail = False

    def _conn(self):
        return sqlite3.connect(self.path, timeout=10)

    def sink(self, msg) -> bool:
        if self.fail:
            raise RuntimeError("inbox unavailable")
        try:
            with self._conn() as c:
                c.execute("INSERT INTO messages (msgid, channel, msgtype, raw_body, query, plaintext, text, sender,"
                          " chat_id, chat_type, response_url, webhook_url, received_at)"
                          " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                          (msg.msgid, msg.channel, msg.msgtype, msg.raw_body, json.dumps(msg.query), msg.plaintext,
                           msg.text, msg.sender, msg.chat_id, msg.chat_type, msg.response_url, msg.webhook_url,
                           msg.received_at.isoformat()))
            return True
        except sqlite3.IntegrityError:
            return False

    def on_refused(self, reason: str, raw_body: bytes, query: dict) -> None:
        with self._conn() as c:
            c.execute("INSERT INTO refused (reason, raw_body, query) VALUES (?,?,?)",
                      (reason, raw_body, json.dumps(query)))

    def messages(self) -> list[dict]:
        with self._conn() as c:
            c.row_factory = sqlite3.Row
            return [dict(r) for r in c.execute("SELECT * FROM messages ORDER BY id")]

    def refused(self) -> list[dict]:
        with self._conn() as c:
            c.row_factory = sqlite3.Row
            return [dict(r) for r in c.execute("SELECT * FROM refused ORDER BY id")]


@pytest.fixture
def inbox(tmp_path) -> SqliteInbox:
    return SqliteInbox(tmp_path / "inbox.sqlite")
