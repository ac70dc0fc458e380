"""The mail queue against a real SMTP server: backoff, a final refusal kept visible, sent again
once fixed; settings checked with the key named."""
from __future__ import annotations

import datetime as dt

import pytest
from smtp_server import free_port, smtp_server
from store.conftest import db_url, store  # noqa: F401  (the store fixtures, both backends)

from otclab.core.errors import InputError
from otclab.mail.config import MailConfig, SmtpSettings, from_dict
from otclab.mail.queue import backoff, deliver_due, enqueue, queue_rows, retry_failed


def test_backoff_doubles_up_to_its_cap():
    assert [backoff(n, 30, 200) for n in (1, 2, 3, 4)] == [30, 60, 120, 200]


def test_settings_name_the_wrong_key(monkeypatch):
    with pytest.raises(InputError, match="mail.smtp.port"):
        from_dict({"smtp": {"port": 70000}})
    with pytest.raises(InputError, match="unknown key"):
        from_dict({"smtp": {"hots": "x"}})
    with pytest.raises(InputError, match="OTCLAB_TEST_SMTP_PW"):
        from_dict({"smtp": {"host": "h", "user": "u", "password_env": "OTCLAB_TEST_SMTP_PW"}})
    monkeypatch.setenv("OTCLAB_TEST_SMTP_PW", "s3cret")
    cfg = from_dict({"smtp": {"host": "h", "from": "a@b", "user": "u", "password_env": "OTCLAB_TEST_SMTP_PW"},
                     "addresses": {"li": "li@desk.test"}})
    assert cfg.smtp.password == "s3cret" and cfg.address_of("li") == "li@desk.test"


def test_address_from_the_users_file(tmp_path):
    users = tmp_path / "users.toml"
    users.write_text('[users."zhao.liu"]\ngroups = ["trader"]\nemail = "zhao.liu@desk.test"\n', encoding="utf-8")
    cfg = MailConfig(users_file=users)
    assert cfg.address_of("zhao.liu") == "zhao.liu@desk.test" and cfg.address_of("nobody") is None


def test_retry_then_a_final_refusal_stays_visible_and_is_sent_once_fixed(store, tmp_path):
    (tmp_path / "doc.pdf").write_bytes(b"%PDF-1.4 test\n%%EOF")

    class Refusing:
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            if address.startswith("gone@"):
                return "550 no such user"
            envelope.rcpt_tos.append(address)
            return "250 OK"

    with store.begin() as c:
        enqueue(c, "k1", "gone@desk.test", "s1", "b1", [{"name": "doc.pdf", "path": "doc.pdf", "sha256": "x"}])
        enqueue(c, "k2", "ok@desk.test", "s2", "b2")
        assert enqueue(c, "k2", "ok@desk.test", "s2", "b2") is None          # queued once per key
    port = free_port()
    cfg = MailConfig(SmtpSettings(host="127.0.0.1", port=port, sender="otclab@desk.test", timeout_s=5),
                     backoff_s=10, max_backoff_s=60)
    t0 = dt.datetime.now(dt.timezone.utc)
    assert deliver_due(store, cfg, tmp_path, at=t0) == {"retry": 2}
    assert deliver_due(store, cfg, tmp_path, at=t0 + dt.timedelta(seconds=9)) == {}
    assert deliver_due(store, cfg, tmp_path, at=t0 + dt.timedelta(seconds=11)) == {"retry": 2}  # still down
    assert {r["attempts"] for r in queue_rows(store)} == {2}
    with smtp_server(port) as srv:
        srv._ctl.handler.handle_RCPT = Refusing().handle_RCPT
        assert deliver_due(store, cfg, tmp_path, at=t0 + dt.timedelta(seconds=40)) == {"failed": 1, "sent": 1}
        (msg,) = srv.wait_for(1)
        assert msg["To"] == "ok@desk.test"
        failed = queue_rows(store, "failed")
        assert [r["key"] for r in failed] == ["k1"] and "550" in failed[0]["last_error"]
        srv._ctl.handler.handle_RCPT = None
        del srv._ctl.handler.handle_RCPT
        with store.begin() as c:   # the address fixed by operations, then the mail queued again
            from otclab.store import tables_confirm as TC

            c.execute(TC.mail_queue.update().where(TC.mail_queue.c.key == "k1").values(to_addr="ok2@desk.test"))
        assert retry_failed(store, "k1") == 1
        assert deliver_due(store, cfg, tmp_path) == {"sent": 1}
        msgs = srv.wait_for(2)
    assert msgs[1]["To"] == "ok2@desk.test" and [a.get_filename() for a in msgs[1].iter_attachments()] == ["doc.pdf"]
    assert {r["status"] for r in queue_rows(store)} == {"sent"}
