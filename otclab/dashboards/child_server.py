"""A web server run as a child process on localhost until stopped (Voila, ``panel serve``): one
start (wait until its HTTP server answers, fail clearly if it exits) and one stop for both."""
from __future__ import annotations

import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ChildServer:
    """Subclasses set ``name`` and, in ``__init__``, ``cmd``, ``env``, ``log`` (a file for its
    output, or None) and ``probe_url()``: a URL whose answer (any HTTP status) shows it is up."""

    name = "server"
    cmd: list[str]
    env: dict
    log: Path | None = None
    proc: subprocess.Popen | None = None

    def probe_url(self) -> str:
        raise NotImplementedError

    def start(self, timeout: float = 90.0):
        out = open(self.log, "wb") if self.log else subprocess.DEVNULL
        self.proc = subprocess.Popen(self.cmd, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}" +
                                   (f"; see {self.log}" if self.log else ""))
            try:
                with urllib.request.urlopen(self.probe_url(), timeout=2):
                    return self
            except urllib.error.HTTPError:
                return self
            except (urllib.error.URLError, OSError):
                time.sleep(0.25)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer on {self.probe_url()} within {timeout:.0f} s")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
