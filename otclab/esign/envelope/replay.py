"""Replay protection and inbox: every received envelope is stored, each (sender, nonce) accepted once.

SQLite by default (a file path); the ``nonces`` primary key makes the check-and-claim atomic even
with several processes opening envelopes concurrently.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3
from pathlib import Path

from ..errors import EnvelopeError, ReplayError


class ReplayStore:
    """Inbox of received envelopes and the set of accepted (sender, nonce) pairs."""

    def __init__(self, path: str | Path = ":memory:"):
        path = str(path)
        self.path = path
        try:
            if path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            self.conn = sqlite3.connect(path, timeout=30)
            self.conn.execute("PRAGMA synchronous=FULL")  # received means on disk
            self._create()
        except (sqlite3.Error, OSError) as exc:
            raise EnvelopeError(f"the replay store at {path} cannot be used ({exc}); it may be damaged", field="replay-db") from None

    def _create(self) -> None:
        with self.conn:
            self.conn.execute(
                "CREATE TABLE IF NOT EXISTS inbox (sha256 TEXT PRIMARY KEY, received_at TEXT NOT NULL, data BLOB NOT NULL)"
            )
            self.conn.execute(
                "CREATE TABLE IF NOT EXISTS nonces (sender TEXT NOT NULL, nonce TEXT NOT NULL, msg_time TEXT NOT NULL, "
                "accepted_at TEXT NOT NULL, PRIMARY KEY (sender, nonce))"
            )

    def receive(self, data: bytes) -> str:
        """Persist a received envelope before it is processed; returns its SHA-256 (hex)."""
        digest = hashlib.sha256(data).hexdigest()
        with self.conn:
            self.conn.execute(
                "INSERT OR IGNORE INTO inbox (sha256, received_at, data) VALUES (?, ?, ?)",
                (digest, dt.datetime.now(dt.timezone.utc).isoformat(), data),
            )
        return digest

    def claim(self, sender: str, nonce: str, msg_time: str) -> None:
        """Accept (sender, nonce) once; a second claim raises ``ReplayError``."""
        try:
            with self.conn:
                self.conn.execute(
                    "INSERT INTO nonces (sender, nonce, msg_time, accepted_at) VALUES (?, ?, ?, ?)",
                    (sender, nonce, msg_time, dt.datetime.now(dt.timezone.utc).isoformat()),
                )
        except sqlite3.IntegrityError:
            (first,) = self.conn.execute(
                "SELECT accepted_at FROM nonces WHERE sender = ? AND nonce = ?", (sender, nonce)
            ).fetchone()
            raise ReplayError(
                f"replayed envelope: nonce {nonce} from this sender was already accepted at {first}", field="header.nonce"
            ) from None

    def close(self) -> None:
        self.conn.close()
