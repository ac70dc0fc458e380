"""A real crash: ``otclab quotes serve`` is killed with SIGKILL while it processes messages posted
to it as WeCom posts them (signed, encrypted), restarted, and must end exactly where an
uninterrupted run of the same messages ends: every message processed once, one set of quotes
each, every reply delivered once, every transition in the evidence log once."""
from __future__ import annotations

import collections
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from otclab.store import tables as T
from otclab.store.db import Store
from otclab.wecom.crypto import WeComCrypto
from otclab.workflows.quotes import evidence

from quotes_support import AES_KEY, TOKEN, seed_store, store_fixtures
from wecom_server import WeComServer, post_callback, robot_text_message, sign_and_encrypt_robot

ROOT = Path(__file__).resolve().parents[2]
TEXTS = [("500 看涨 平值 3个月 名义1000万 期权费多少", "client01"),
         ("中证500 雪球 12个月 敲出103 敲入80 票息多少", "client01"),
         ("沪深300 看跌 95 6个月 名义2000万 多少钱", "client01"),
         ("你好", "client01"),
         ("中证1000 雪球 1年 103/80 票息多少", "stranger")]
N = 40


def _port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def _start(url: str, config: Path, port: int, log: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    seen = log.stat().st_size if log.exists() else 0
    p = subprocess.Popen([sys.executable, "-m", "otclab", "quotes", "serve", "--store", url, "--config", str(config),
                          "--port", str(port)], cwd=ROOT, env=env, stdout=open(log, "ab"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while b"listening on" not in log.read_bytes()[seen:]:
        if p.poll() is not None or time.monotonic() > deadline:
            p.kill()
            raise AssertionError("the server did not start:\n" + log.read_text(encoding="utf-8", errors="replace"))
        time.sleep(0.1)
    return p


def _config(folder: Path, webhook: str) -> Path:
    path = folder / "quotes.toml"
    path.write_text(f'token = "{TOKEN}"\nencoding_aes_key = "{AES_KEY}"\nreceive_id = ""\n'
                    f'webhook_url = "{webhook}"\nclaim_lease_s = 1.5\nworkers = 2\nvalidity_s = 3600\n',
                    encoding="utf-8")
    return path


def _post_all(port: int, crypto, wx, start_at: int = 0, on_each=None) -> None:
    import httpx

    with httpx.Client(timeout=10) as client:
        for i in range(start_at, N):
            text, sender = TEXTS[i % len(TEXTS)]
            msg = robot_text_message(f"@报价机器人 {text}", userid=sender, msgid=f"MSG{i:04d}", chatid=None,
                                     response_url=wx.new_response_url())
            q, body = sign_and_encrypt_robot(crypto, msg)
            r = post_callback(f"http://127.0.0.1:{port}/wecom/callback", q, body, client)
            assert r.status_code == 200, r.text
            if i % 7 == 0:     # WeCom retries some: acknowledged again, not processed again
                assert post_callback(f"http://127.0.0.1:{port}/wecom/callback", q, body, client).status_code == 200
            if on_each:
                on_each(i)


def _state(st: Store) -> dict:
    m, q, o = T.rfq_messages, T.quotes, T.outbound_messages
    with st.connect() as c:
        msgs = c.execute(select(m.c.msgid, m.c.status, m.c.outcome).order_by(m.c.msgid)).all()
        quotes = c.execute(select(m.c.msgid, q.c.request_index, q.c.state, q.c.template_version, q.c.pricing)
                           .join(m, m.c.id == q.c.message_id).order_by(m.c.msgid)).all()
        out = c.execute(select(m.c.msgid, o.c.kind, o.c.status, o.c.text).join(m, m.c.id == o.c.message_id)
                        .order_by(m.c.msgid)).all()
        events = c.execute(select(func.count()).select_from(T.quote_events)).scalar()
    return {"messages": [tuple(r) for r in msgs],
            "quotes": [(r.msgid, r.request_index, r.state, r.template_version, round(r.pricing["value"], 6),
                        r.pricing.get("solved") and round(r.pricing["solved"]["value"], 12)) for r in quotes],
            "outbound": [tuple(r) for r in out], "events": events}


def _wait_done(st: Store, wx: WeComServer, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    m, o = T.rfq_messages, T.outbound_messages
    while time.monotonic() < deadline:
        with st.connect() as c:
            left = c.execute(select(func.count()).select_from(m).where(m.c.status != "done")).scalar()
            unsent = c.execute(select(func.count()).select_from(o).where(o.c.status != "sent")).scalar()
            events = c.execute(select(func.count()).select_from(T.quote_events)).scalar()
            logged = c.execute(select(func.count()).select_from(T.quote_evidence)).scalar()
            n = c.execute(select(func.count()).select_from(m)).scalar()
        if n == N and left == 0 and unsent == 0 and events == logged:
            return
        time.sleep(0.2)
    raise AssertionError(f"not drained: {left} messages left, {unsent} replies unsent, {events - logged} events "
                         "not in the evidence log")


def _run(url: str, folder: Path, kill: bool) -> tuple[dict, collections.Counter, dict]:
    st = Store(url)
    seed_store(st)
    crypto = WeComCrypto(TOKEN, AES_KEY, "")
    info: dict = {}
    with WeComServer() as wx:
        cfg = _config(folder, wx.webhook_url("desk"))
        port = _port()
        log = folder / "serve.log"
        proc = _start(url, cfg, port, log)
        killed = {"done": False}

        def maybe_kill(i):
            if not kill or killed["done"]:
                return
            with st.connect() as c:
                done = c.execute(select(func.count()).select_from(T.rfq_messages)
                                 .where(T.rfq_messages.c.status == "done")).scalar()
            if done >= 5:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
                killed.update(done=True, at=i)
                with st.connect() as c:
                    info["at_kill"] = dict(c.execute(select(T.rfq_messages.c.status, func.count())
                                                     .group_by(T.rfq_messages.c.status)).all())

        try:
            try:
                _post_all(port, crypto, wx, 0, maybe_kill if kill else None)
            except Exception:
                if not killed["done"]:
                    raise
            if kill:
                if not killed["done"]:      # everything posted before five were done: kill now
                    os.kill(proc.pid, signal.SIGKILL)
                    proc.wait()
                    killed.update(done=True, at=N)
                assert proc.returncode == -signal.SIGKILL
                # WeCom retries what was not acknowledged; the server is down: the rest after the restart
                proc = _start(url, cfg, port, log)
                _post_all(port, crypto, wx, killed["at"] + 1)
            _wait_done(st, wx)
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
        texts = collections.Counter(wx.texts())
    state = _state(st)
    ids = [e["event_id"] for e in evidence.entries(st)]
    with st.connect() as c:
        all_ids = [r[0] for r in c.execute(select(T.quote_events.c.id).order_by(T.quote_events.c.id))]
    # every event exactly once; on PostgreSQL two workers' commits may land out of id order, and the
    # catch-up appends in commit order (it follows what is missing, not a high-water mark)
    assert sorted(ids) == all_ids and len(set(ids)) == len(ids), "the evidence log must hold every event exactly once"
    st.dispose()
    return state, texts, info


def test_sigkill_mid_processing_then_restart_ends_as_an_uninterrupted_run(db_url, tmp_path, pg_server):
    new_url = store_fixtures().new_url
    backend = "sqlite" if db_url.startswith("sqlite") else "postgresql"
    (tmp_path / "killed").mkdir()
    (tmp_path / "ref").mkdir()
    killed_url = db_url if backend == "postgresql" else f"sqlite:///{tmp_path / 'killed' / 'otclab.db'}"
    ref_url, cleanup = new_url(backend, tmp_path / "ref", pg_server)
    try:
        got, got_texts, info = _run(killed_url, tmp_path / "killed", kill=True)
        want, want_texts, _ = _run(ref_url, tmp_path / "ref", kill=False)
    finally:
        cleanup()
    left = sum(v for k, v in info["at_kill"].items() if k != "done")
    assert left > 0 or info["at_kill"].get("done", 0) < N, info       # the kill came before the end
    assert got == want
    assert len(got["messages"]) == N and {s for _, s, _ in got["messages"]} == {"done"}
    assert got_texts == want_texts and sum(got_texts.values()) == len(got["outbound"])   # each reply once
    assert {k for _, k, _, _ in got["outbound"]} == {"clarify", "refusal"}
    assert len(got["quotes"]) == 3 * N // 5 and got["events"] == 4 * len(got["quotes"])
