"""A real SMTP server on localhost for tests (aiosmtpd), collecting what it receives.

``with smtp_server() as srv:`` starts it on a free port and stops it on leaving; ``srv.port``,
``srv.messages`` (``email.message.EmailMessage``s as parsed from the bytes received) and
``srv.wait_for(n, timeout)``. ``SmtpServer(port=...)`` restarts on a given port (a server that was
down coming back).
"""
from __future__ import annotations

import contextlib
import email
import email.policy
import socket
import threading
import time


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Handler:
    def __init__(self, sink: list, cond: threading.Condition):
        self.sink, self.cond = sink, cond

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.cond:
            self.sink.append(msg)
            self.cond.notify_all()
        return "250 OK"


class SmtpServer:
    def __init__(self, port: int | None = None):
        from aiosmtpd.controller import Controller

        self.port = port or free_port()
        self.messages: list = []
        self._cond = threading.Condition()
        self._ctl = Controller(_Handler(self.messages, self._cond), hostname="127.0.0.1", port=self.port,
                               ready_timeout=10)

    def start(self) -> "SmtpServer":
        self._ctl.start()
        return self

    def stop(self) -> None:
        self._ctl.stop()

    def wait_for(self, n: int, timeout: float = 10.0) -> list:
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.messages) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"the SMTP server received {len(self.messages)} message(s), expected {n}")
                self._cond.wait(left)
        return list(self.messages)


@contextlib.contextmanager
def smtp_server(port: int | None = None):
    srv = SmtpServer(port).start()
    try:
        yield srv
    finally:
        srv.stop()
