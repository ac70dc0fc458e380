"""The quote workflow's service functions (what the CLI and the Panel app call) and the server.

Every function takes an open ``otclab.store.db.Store`` first and returns plain JSON-able values
(times as aware UTC ISO text). Settings (four-eyes notional, reply template, validity, pricing)
come from ``configure(cfg)``, else from ``load_config`` (``$OTCLAB_QUOTES_CONFIG`` and the
environment). ``QuoteService`` runs WeCom's callback app (``otclab.wecom.callback.create_app``)
under uvicorn with the workers: processing (``workers`` threads), expiry, the outbound queue and
the evidence log catch-up; ``serve`` runs it until SIGTERM or Ctrl-C.
"""
from __future__ import annotations

import logging
import threading
import time

from sqlalchemy import select

from ...store import tables as T
from ...store.db import now
from . import accept as accept_mod
from . import approval, corrections, evidence, expiry, inbox, outbound_worker, process, reply
from . import states as qstates
from .config import QuoteConfig, load_config
from .errors import QuoteError

log = logging.getLogger("otclab.quotes")
_CFG: dict = {}

__all__ = ["receive", "refused", "process_pending", "list_quotes", "get_quote", "edit_quote", "approve", "reject",
           "accept", "cancel", "reply_text", "configure", "QuoteService", "serve", "QuoteError"]


def configure(cfg: QuoteConfig | None) -> None:
    """Use ``cfg`` for the functions below (None: back to ``load_config``)."""
    _CFG.clear()
    if cfg is not None:
        _CFG["cfg"] = cfg


def config() -> QuoteConfig:
    if "cfg" not in _CFG:
        _CFG["cfg"] = load_config(require_wecom=False)
    return _CFG["cfg"]


def _after(store) -> None:
    evidence.catch_up(store, config().evidence_log)


# ---- the inbox ----------------------------------------------------------------------------------
def receive(store, msg) -> bool:
    """The WeCom sink: persist ``msg``; True if new, False for a msgid seen before."""
    return inbox.receive(store, msg)


def refused(store, reason: str, raw_body: bytes, query: dict) -> int:
    return inbox.refused(store, reason, raw_body, query)


def process_pending(store, max_messages: int | None = None) -> int:
    """Process the pending messages now (the service's workers do this on their own)."""
    return process.process_pending(store, config(), max_messages)


# ---- reading ------------------------------------------------------------------------------------
def _iso(t):
    return None if t is None else t.isoformat()


def _context(conn, rows) -> dict:
    """For blotter rows, in three queries whatever their number: the first approvers, the
    approvers, the chat text and the arrival time of each quote's request."""
    e, m = T.quote_events, T.rfq_messages
    ids = [r.quote_id for r in rows]
    out = {"firsts": {}, "approvers": {}, "texts": {}, "received": {}}
    for chunk in range(0, len(ids), 500):
        part = ids[chunk:chunk + 500]
        for ev in conn.execute(select(e.c.quote_id, e.c.by, e.c.from_state, e.c.to_state, e.c.details)
                               .where(e.c.quote_id.in_(part), e.c.to_state.in_(("pending_approval", "approved")))
                               .order_by(e.c.id)).all():
            if ev.to_state == "approved":
                out["approvers"].setdefault(ev.quote_id, []).append(ev.by)
            elif ev.from_state == "pending_approval" and (ev.details or {}).get("approval"):
                out["firsts"].setdefault(ev.quote_id, []).append(ev.by)
        mids = sorted({r.message_id for r in rows[chunk:chunk + 500]})
        for mid, text, at in conn.execute(select(m.c.id, m.c.text, m.c.received_at).where(m.c.id.in_(mids))).all():
            out["texts"][mid], out["received"][mid] = text, at
    return out


def _row(conn, r, cfg, t, ctx: dict | None = None) -> dict:
    p = r.pricing or {}
    solved = p.get("solved") or {}
    ctx = ctx or _context(conn, [r])
    firsts = ctx["firsts"].get(r.quote_id, [])
    four = approval.needs_four_eyes(r, cfg)
    approvers = ctx["approvers"].get(r.quote_id, [])
    msg_text = ctx["texts"].get(r.message_id)
    maker = r.maker or (firsts[0] if firsts else None)
    checkers = [u for u in [*firsts, *approvers] if u != maker] if four else approvers
    return {"quote_id": r.quote_id, "state": r.state, "created_at": _iso(r.created_at),
            "received_at": _iso(ctx["received"].get(r.message_id)),
            "valid_until": _iso(r.valid_until), "seconds_left": max(0.0, (r.valid_until - t).total_seconds())
            if r.state in qstates.LIVE else 0.0, "sender": r.sender, "counterparty_id": r.counterparty_id,
            "counterparty_name": r.counterparty_name, "chat_id": r.chat_id, "underlying": r.underlying,
            "structure": r.structure, "tenor": r.tenor_months, "notional": r.notional, "solve_for": r.solve_for,
            "value": p.get("value"), "value_pct": p.get("value_pct"),
            "fair_coupon": solved.get("value") if solved.get("field") == "coupon" else None,
            "participation": solved.get("value") if "participation" in (solved.get("field") or "") else None,
            "price": p.get("value_pct") if not solved else None, "vol": p.get("vol"), "engine": p.get("engine"),
            "std_err": p.get("std_err"), "maker": maker, "checkers": checkers,
            "needs_second_approval": bool(four and r.state == "pending_approval"),
            "message_text": msg_text, "revision": r.revision, "supersedes": r.supersedes, "error": r.error}


def list_quotes(store, states: list[str] | None = None, limit: int = 500) -> list[dict]:
    """Blotter rows, newest request first (the order messages arrived in, the latest revision of a
    request above the one it superseded); ``states`` filters by state."""
    wanted = states
    cfg = config()
    q = T.quotes
    stmt = select(q).order_by(q.c.message_id.desc(), q.c.revision.desc(), q.c.quote_id.desc()).limit(int(limit))
    if wanted:
        bad = [s for s in wanted if s not in qstates.STATES]
        if bad:
            raise QuoteError(f"unknown state {bad[0]!r}; states: {', '.join(qstates.STATES)}", "states")
        stmt = stmt.where(q.c.state.in_(list(wanted)))
    t = now()
    with store.connect() as conn:
        rows = conn.execute(stmt).all()
        ctx = _context(conn, rows)
        return [_row(conn, r, cfg, t, ctx) for r in rows]


def get_quote(store, quote_id: str) -> dict:
    """One quote: its blotter row, the raw chat text, parsed fields, template and terms, the
    model price, the reply preview and the history of its events."""
    cfg = config()
    with store.connect() as conn:
        r = approval.load(conn, quote_id)
        out = _row(conn, r, cfg, now())
        msg = conn.execute(select(T.rfq_messages).where(T.rfq_messages.c.id == r.message_id)).one()
        out.update(fields=dict(r.fields or {}), template=r.template, template_version=r.template_version,
                   terms=r.terms, pricing=r.pricing, market_snapshot_id=r.market_snapshot_id,
                   raw_text=msg.text, msgid=msg.msgid, received_at=_iso(msg.received_at),
                   history=qstates.history(conn, quote_id))
        out["reply_preview"] = reply.quote_reply(dict(r._mapping), cfg) if r.pricing else None
    return out


def reply_text(store, quote_id: str) -> str:
    """The reply the client would get for ``quote_id`` (the template filled in)."""
    with store.connect() as conn:
        r = approval.load(conn, quote_id)
    if not r.pricing:
        raise QuoteError(f"quote {quote_id} has no price ({r.error or r.state}); there is no reply to show",
                         "quote_id")
    return reply.quote_reply(dict(r._mapping), config())


# ---- acting -------------------------------------------------------------------------------------
def edit_quote(store, quote_id: str, field: str, value, user: str) -> dict:
    """Correct a parsed field and reprice; returns the new quote (it supersedes ``quote_id``)."""
    new_id = corrections.edit_quote(store, quote_id, field, value, user, config())
    _after(store)
    return get_quote(store, new_id)


def approve(store, quote_id: str, user: str) -> dict:
    out = approval.approve(store, quote_id, user, config())
    _after(store)
    return {**get_quote(store, quote_id), "reply": out.get("reply")}


def reject(store, quote_id: str, user: str, reason: str) -> dict:
    approval.reject(store, quote_id, user, reason)
    _after(store)
    return get_quote(store, quote_id)


def cancel(store, quote_id: str, user: str, reason: str) -> dict:
    """Withdraw a quote (pending approval, approved or sent; not once booked)."""
    approval.cancel(store, quote_id, user, reason)
    _after(store)
    return get_quote(store, quote_id)


def accept(store, quote_id: str, user: str) -> str:
    tid = accept_mod.accept(store, quote_id, user)
    _after(store)
    return tid


# ---- the server ---------------------------------------------------------------------------------
class QuoteService:
    """The callback server and the workers on one store. ``start()`` / ``stop()``; ``url`` once
    started. ``send`` replaces ``otclab.wecom.outbound.send`` (tests inject failures through the
    local WeCom server instead)."""

    def __init__(self, store, cfg: QuoteConfig, host: str = "127.0.0.1", port: int = 8090, send=None,
                 server: bool = True):
        from ...wecom.outbound import RateLimiter

        self.store, self.cfg, self.host, self.port = store, cfg, host, port
        self.send = send
        self.limiter = RateLimiter()
        self.server_enabled = server
        self._stop = threading.Event()
        self._wake = threading.Event()          # set by a receive: a worker starts at once
        self.pool = None
        self._threads: list[threading.Thread] = []
        self._server = None
        self.processed = 0
        configure(cfg)

    # the loops: each catches its errors so that one bad moment never stops the service
    def _loop(self, name: str, step, idle: float, wake: threading.Event | None = None):
        while not self._stop.is_set():
            try:
                busy = step()
            except Exception:
                log.exception("%s failed; carrying on", name)
                busy = False
            if not busy:
                if wake is None:
                    self._stop.wait(idle)
                else:
                    wake.wait(idle)
                    wake.clear()

    def _sink(self, msg) -> bool:
        new = receive(self.store, msg)
        if new:
            self._wake.set()
        return new

    def _process_step(self) -> bool:
        got = process.process_one(self.store, self.cfg, self.pool)
        if got is None:
            return False
        self.processed += 1
        log.info("message %s: %s %s", got["message_id"], got["outcome"], " ".join(got["quotes"]))
        return True

    def _evidence_step(self) -> bool:
        return evidence.catch_up(self.store, self.cfg.evidence_log) > 0

    def _expiry_step(self) -> bool:
        done = expiry.expire_due(self.store)
        if done:
            log.info("expired %s", " ".join(done))
        return False

    def _outbound_step(self) -> bool:
        counts = outbound_worker.deliver_due(self.store, self.cfg, self.limiter, self.send)
        return bool(counts.get("sent") or counts.get("retry"))

    def app(self):
        from ...wecom.callback import WeComConfig, create_app

        wc = WeComConfig(token=self.cfg.token, encoding_aes_key=self.cfg.encoding_aes_key,
                         receive_id=self.cfg.receive_id, channel=self.cfg.channel, path=self.cfg.path,
                         max_skew_s=self.cfg.max_skew_s, bot_name=self.cfg.bot_name)
        return create_app(wc, self._sink,
                          on_refused=lambda reason, raw, q: refused(self.store, reason, raw, q))

    def warm_up(self) -> None:
        """Load the parser's model and the pricing code before the first message (seconds)."""
        from ...rfq import parse

        parse("中证500 雪球 12个月 敲出103 敲入80 票息多少")

    def start(self) -> "QuoteService":
        self.warm_up()
        if self.cfg.pricing_processes > 0:
            from .pricer import ValuationPool

            self.pool = ValuationPool(self.cfg.pricing_processes)
        loops = [(f"process-{i}", self._process_step, self.cfg.poll_s, self._wake) for i in range(self.cfg.workers)]
        loops += [("evidence", self._evidence_step, 0.5, None), ("expiry", self._expiry_step, 1.0, None),
                  ("outbound", self._outbound_step, 0.2, None)]
        for name, step, idle, wake in loops:
            t = threading.Thread(target=self._loop, args=(name, step, idle, wake), name=f"quotes-{name}", daemon=True)
            t.start()
            self._threads.append(t)
        if self.server_enabled:
            import uvicorn

            config = uvicorn.Config(self.app(), host=self.host, port=self.port, log_config=None, log_level="warning",
                                    lifespan="off", access_log=False)
            self._server = uvicorn.Server(config)
            t = threading.Thread(target=self._server.run, name="quotes-http", daemon=True)
            t.start()
            self._threads.append(t)
            deadline = time.monotonic() + 20
            while not self._server.started:
                if not t.is_alive() or time.monotonic() > deadline:
                    raise QuoteError(f"the callback server could not listen on {self.host}:{self.port} "
                                     "(port in use?)", "port")
                time.sleep(0.02)
        return self

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}{self.cfg.path}"

    def stop(self, timeout: float = 10.0) -> None:
        if self._server is not None:
            self._server.should_exit = True
        self._stop.set()
        self._wake.set()
        for t in self._threads:
            t.join(timeout)
        if self.pool is not None:
            self.pool.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def serve(store, cfg: QuoteConfig, host: str = "127.0.0.1", port: int = 8090, on_ready=None) -> None:
    """Run the service until SIGTERM or Ctrl-C (the work in progress is finished or left claimed)."""
    import signal

    svc = QuoteService(store, cfg, host, port).start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    if on_ready:
        on_ready(svc)
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        svc.stop()
