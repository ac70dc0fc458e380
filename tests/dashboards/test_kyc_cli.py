"""``otclab dashboard kyc-client`` / ``kyc-review`` refuse what they cannot serve with one line
naming the option, exit 2, before anything is served: a credentials file Panel's basic auth
cannot read, a users file that is missing or names an unknown group, a poll interval out of range."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest


def _run(app, *args, timeout=60):
    return subprocess.run([sys.executable, "-m", "otclab.cli.main", "dashboard", app, *args],
                          capture_output=True, text=True, timeout=timeout, env=dict(os.environ))


def _one_line(r, option: str, why: str) -> None:
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert r.stderr.strip().count("\n") == 0 and option in r.stderr and why in r.stderr, r.stderr


@pytest.mark.parametrize("app", ["kyc-client", "kyc-review"])
def test_a_credentials_file_it_cannot_use_is_one_line(tmp_path, app):
    creds = tmp_path / "logins.json"
    creds.write_text('["alice"]', encoding="utf-8")
    _one_line(_run(app, "--basic-auth", str(creds), "--db", f"sqlite:///{tmp_path / 'o.db'}"), "--basic-auth",
              "must be a JSON object")


def test_the_review_page_refuses_a_users_file_it_cannot_use(tmp_path):
    db = f"sqlite:///{tmp_path / 'o.db'}"
    _one_line(_run("kyc-review", "--users", str(tmp_path / "none.toml"), "--db", db), "--users", "does not exist")
    bad = tmp_path / "users.toml"
    bad.write_text('[users.carl]\ngroups = ["compliance", "auditors"]\n', encoding="utf-8")
    _one_line(_run("kyc-review", "--users", str(bad), "--db", db), "groups", "unknown group(s) auditors")
    _one_line(_run("kyc-review", "--poll", "0", "--db", db), "--poll", "0.1 to 60")
