"""Teardown shared by the browser tests that run a service as a child process."""
from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path


def stop_service(proc: subprocess.Popen, log, folder: Path, logs: tuple[str, ...], failed: bool):
    """SIGTERM ``proc`` (kill after 60 s), close its ``log`` file; when the test ``failed``, print
    the tail of each of ``logs`` in ``folder`` past pytest's capture (a failure seen only in CI).
    Returns the exit code, or "killed"."""
    proc.send_signal(signal.SIGTERM)
    try:
        rc = proc.wait(60)
    except subprocess.TimeoutExpired:
        proc.kill()
        rc = "killed"
    log.close()
    if failed:
        for name in logs:
            if (folder / name).exists():
                print(f"\n--- {name} (last 3000 characters)\n{(folder / name).read_text()[-3000:]}", file=sys.__stderr__)
    return rc


def wait_until(cond, timeout: float, what: str, every: float = 0.2):
    """Poll ``cond()`` every ``every`` seconds until it returns something true (returned), or fail
    the test after ``timeout`` seconds naming ``what`` was awaited."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
