"""``otclab dashboard quotes`` as a user runs it: it prints the app's URL and serves the login page
and, after a login, the app; a credentials file it cannot use, a bad poll interval or a bad
settings file is one line naming the option, exit 2, before anything is served."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from otclab.dashboards.child_server import free_port


def _run(*args, env=None, timeout=60):
    return subprocess.run([sys.executable, "-m", "otclab.cli.main", "dashboard", "quotes", *args],
                          capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})})


@pytest.mark.parametrize("content,why", [
    (None, "cannot read"), ("{not json", "is not JSON"), ('["alice"]', "must be a JSON object"),
    ('{"alice": ""}', "must be a JSON object")])
def test_a_credentials_file_it_cannot_use_is_one_line(tmp_path, content, why):
    creds = tmp_path / "traders.json"
    if content is not None:
        creds.write_text(content, encoding="utf-8")
    r = _run("--basic-auth", str(creds), "--db", f"sqlite:///{tmp_path / 'o.db'}")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip().count("\n") == 0 and "--basic-auth" in r.stderr and why in r.stderr


def test_bad_poll_and_settings_are_one_line(tmp_path):
    r = _run("--poll", "0", "--db", f"sqlite:///{tmp_path / 'o.db'}")
    assert r.returncode == 2 and "--poll" in r.stderr and "0.1 to 60" in r.stderr
    bad = tmp_path / "q.toml"
    bad.write_text("four_eyes_notional = -1\n", encoding="utf-8")
    r = _run("--config", str(bad), "--db", f"sqlite:///{tmp_path / 'o.db'}")
    assert r.returncode == 2 and "four_eyes_notional" in r.stderr and "Traceback" not in r.stderr


def test_it_prints_the_url_and_serves_the_login_and_the_app(tmp_path):
    creds = tmp_path / "traders.json"
    creds.write_text(json.dumps({"alice": "pw-alice"}), encoding="utf-8")
    port = free_port()
    db = f"sqlite:///{tmp_path / 'o.db'}"
    p = subprocess.Popen([sys.executable, "-m", "otclab.cli.main", "dashboard", "quotes", "--port", str(port),
                          "--basic-auth", str(creds), "--db", db], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True)
    try:
        first = p.stdout.readline()
        assert first.strip() == f"quote-review app on http://127.0.0.1:{port}/quotes (store {db})"
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2) as r:
                    page = r.read().decode()
                break
            except (urllib.error.URLError, OSError):
                assert p.poll() is None and time.monotonic() < deadline, "panel serve did not start"
                time.sleep(0.3)
        assert 'name="username"' in page and 'name="password"' in page
        # without a login the app redirects to the login page
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/quotes", timeout=30) as r:
            assert "/login" in r.geturl()
    finally:
        p.terminate()
        p.wait(20)
