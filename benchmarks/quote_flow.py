"""Quote workflow benchmark: a bounded load on the real server (``otclab quotes serve`` on
localhost, a real store), messages posted as WeCom posts them (signed, encrypted).

    python benchmarks/quote_flow.py              # latency runs, then 20 messages/s for 60 s (SQLite)
    python benchmarks/quote_flow.py --quick      # the same with ~10 s of load
    python benchmarks/quote_flow.py --store postgresql://...   # an empty PostgreSQL database

Prints one table:
  latency vanilla / snowball   callback received (the time the callback stamps on the message) to
               the quote's pending_approval event, both written by the server, read from the store;
               messages posted one at a time at 4 a second (no queue): p50 / p99 / max
  sustained    20 messages/s (half vanilla, half snowball) for the stated seconds: received
               (answered 200), processed, quotes, duplicates (a message with more than its one
               quote, or processed twice), lost (answered but not processed when drained), the
               time to drain after the last post, latency percentiles under that load
  baselines    measured in the same run, in this process: the parser alone (``otclab.rfq.parse``)
               and the pricer alone (``pricer.price_request``) on the same messages
  accuracy     the snowball's fair coupon on the service's PDE grid against a fine grid (3201
               points x 16 steps a day) and against Monte Carlo (400,000 paths), the cost of speed
Targets (issue 14): p50 <= 100 ms, p99 <= 500 ms on 2 cores; 20/s for 60 s with nothing lost or
processed twice and the queue drained.
"""
from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "quotes"))

import httpx  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from otclab.store import tables as T  # noqa: E402
from otclab.store.db import Store  # noqa: E402
from otclab.wecom.crypto import WeComCrypto  # noqa: E402
from quotes_support import AES_KEY, TOKEN, market, seed_store  # noqa: E402
from wecom_server import WeComServer, post_callback, robot_text_message, sign_and_encrypt_robot  # noqa: E402

VANILLA = "500 看涨 平值 3个月 名义1000万 期权费多少"
SNOWBALL = "中证500 雪球 12个月 敲出103 敲入80 票息多少"


def pct(xs, p):
    if not xs:
        return float("nan")
    xs = sorted(xs)
    k = (len(xs) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def _port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def start_server(url: str, folder: Path, webhook: str, workers: int, port: int, pricing_processes: int):
    cfg = folder / "quotes.toml"
    cfg.write_text(f'token = "{TOKEN}"\nencoding_aes_key = "{AES_KEY}"\nwebhook_url = "{webhook}"\n'
                   f'workers = {workers}\npricing_processes = {pricing_processes}\nvalidity_s = 3600\nevidence_log = "{folder / "evidence.sqlite"}"\n',
                   encoding="utf-8")
    log = folder / "serve.log"
    proc = subprocess.Popen([sys.executable, "-m", "otclab", "quotes", "serve", "--store", url, "--config", str(cfg),
                             "--port", str(port)], cwd=ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1"},
                            stdout=open(log, "wb"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while b"listening on" not in log.read_bytes():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            sys.exit("server did not start:\n" + log.read_text(errors="replace"))
        time.sleep(0.1)
    return proc


class Poster:
    def __init__(self, port: int):
        self.url = f"http://127.0.0.1:{port}/wecom/callback"
        self.crypto = WeComCrypto(TOKEN, AES_KEY, "")
        self.client = httpx.Client(timeout=30)
        self.n = 0
        self.lock = threading.Lock()

    def post(self, text: str, tag: str) -> tuple[str, int]:
        with self.lock:
            self.n += 1
            msgid = f"{tag}-{self.n:06d}"
        msg = robot_text_message(f"@报价机器人 {text}", userid="client01", msgid=msgid, chatid=None)
        q, body = sign_and_encrypt_robot(self.crypto, msg)
        return msgid, post_callback(self.url, q, body, self.client).status_code


def latencies(st: Store, msgids: list[str]) -> list[float]:
    """ms from the message's received_at to its quote's pending_approval event."""
    m, q, e = T.rfq_messages, T.quotes, T.quote_events
    with st.connect() as c:
        rows = c.execute(select(m.c.received_at, e.c.at).join(q, q.c.message_id == m.c.id)
                         .join(e, e.c.quote_id == q.c.quote_id)
                         .where(m.c.msgid.in_(msgids), e.c.to_state == "pending_approval")).all()
    return [(b - a).total_seconds() * 1000 for a, b in rows]


def wait_done(st: Store, msgids: list[str], timeout: float) -> float:
    t0 = time.monotonic()
    m = T.rfq_messages
    while time.monotonic() - t0 < timeout:
        with st.connect() as c:
            left = c.execute(select(func.count()).select_from(m).where(m.c.msgid.in_(msgids), m.c.status != "done")).scalar()
            have = c.execute(select(func.count()).select_from(m).where(m.c.msgid.in_(msgids))).scalar()
        if left == 0 and have == len(msgids):
            return time.monotonic() - t0
        time.sleep(0.05)
    return float("nan")


def latency_run(st, poster, text, tag, n, rate=4.0):
    ids = []
    for _ in range(n):
        t = time.monotonic()
        mid, code = poster.post(text, tag)
        assert code == 200, code
        ids.append(mid)
        time.sleep(max(0.0, 1 / rate - (time.monotonic() - t)))
    wait_done(st, ids, 60)
    return latencies(st, ids)


def sustained(st, poster, rate: float, seconds: float):
    n = int(rate * seconds)
    ids, codes = [], []
    t0 = time.monotonic()
    for i in range(n):
        due = t0 + i / rate
        time.sleep(max(0.0, due - time.monotonic()))
        mid, code = poster.post(VANILLA if i % 2 == 0 else SNOWBALL, "load")
        ids.append(mid)
        codes.append(code)
    posted_s = time.monotonic() - t0
    drain = wait_done(st, ids, 120)
    m, q = T.rfq_messages, T.quotes
    with st.connect() as c:
        msgs = c.execute(select(m.c.id, m.c.status, m.c.attempts).where(m.c.msgid.in_(ids))).all()
        per = dict(c.execute(select(q.c.message_id, func.count()).join(m, m.c.id == q.c.message_id)
                             .where(m.c.msgid.in_(ids)).group_by(q.c.message_id)).all())
    done = [r for r in msgs if r.status == "done"]
    lat = latencies(st, ids)
    return {"posted": n, "received": sum(1 for c in codes if c == 200), "processed": len(done),
            "quotes": sum(per.values()), "duplicates": sum(v - 1 for v in per.values() if v > 1)
            + sum(1 for r in msgs if r.attempts > 1), "lost": n - len(done), "drain_s": drain,
            "posted_s": posted_s, "lat": lat}


def baselines(n: int = 40):
    from otclab.rfq import parse
    from otclab.workflows.quotes.config import QuoteConfig
    from otclab.workflows.quotes.pricer import price_request

    cfg = QuoteConfig()
    mkt = market()
    out = {}
    for name, text in (("vanilla", VANILLA), ("snowball", SNOWBALL)):
        parse(text)
        ts, tp = [], []
        for _ in range(n):
            t = time.perf_counter()
            r = parse(text)[0]
            ts.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            price_request(r.to_dict(), mkt, cfg)
            tp.append((time.perf_counter() - t) * 1000)
        out[name] = (ts, tp)
    return out


def accuracy():
    import dataclasses

    from otclab.pricing import solve
    from otclab.rfq import parse
    from otclab.workflows.quotes.config import QuoteConfig
    from otclab.workflows.quotes.pricer import price_request

    fields = parse(SNOWBALL)[0].to_dict()
    mkt = market()
    cfg = QuoteConfig()
    fast = price_request(fields, mkt, cfg)
    fine = price_request(fields, mkt, dataclasses.replace(cfg, pde_n_x=3201, pde_steps_per_day=16))
    raw = {**fast["pricing"]["terms_priced"], "coupon": 0.1}
    mc = solve({"template": "snowball", "terms": raw, "market": mkt}, "coupon", engine="mc", paths=400_000)
    return (fast["pricing"]["solved"]["value"], fine["pricing"]["solved"]["value"], mc["value"],
            cfg.pde_n_x, cfg.pde_steps_per_day)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="about 10 s of sustained load instead of 60 s")
    ap.add_argument("--store", help="an empty database URL (default: a new SQLite file in a temporary folder)")
    ap.add_argument("--rate", type=float, default=20.0)
    ap.add_argument("--seconds", type=float, default=None)
    ap.add_argument("--workers", type=int, default=2, help="processing threads of the server")
    ap.add_argument("--pricing-processes", type=int, default=2, help="valuation processes of the server")
    ap.add_argument("--latency-n", type=int, default=None)
    args = ap.parse_args()
    seconds = args.seconds or (10.0 if args.quick else 60.0)
    n_lat = args.latency_n or (20 if args.quick else 60)
    folder = Path(tempfile.mkdtemp(prefix="quote-flow-"))
    url = args.store or f"sqlite:///{folder / 'otclab.db'}"
    st = Store(url)
    seed_store(st)
    print(f"store {st.display_url}; {os.cpu_count()} CPUs; server: {args.workers} processing threads, "
          f"{args.pricing_processes} valuation processes; load average {os.getloadavg()[0]:.2f}", flush=True)
    base = baselines(20 if args.quick else 40)
    with WeComServer() as wx:
        port = _port()
        proc = start_server(url, folder, wx.webhook_url("desk"), args.workers, port, args.pricing_processes)
        try:
            poster = Poster(port)
            for text, tag in ((VANILLA, "warm"), (SNOWBALL, "warm")):
                latency_run(st, poster, text, tag, 3)
            lat_v = latency_run(st, poster, VANILLA, "lat-v", n_lat)
            lat_s = latency_run(st, poster, SNOWBALL, "lat-s", n_lat)
            load = sustained(st, poster, args.rate, seconds)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
    acc = accuracy()

    rows = [("latency vanilla", f"{len(lat_v)} quotes", lat_v), ("latency snowball", f"{len(lat_s)} quotes", lat_s),
            (f"sustained {args.rate:g}/s x {seconds:g} s", f"{load['quotes']} quotes", load["lat"])]
    print()
    print("| what | n | p50 ms | p99 ms | max ms |")
    print("| --- | --- | --- | --- | --- |")
    for name, n, xs in rows:
        print(f"| {name} | {n} | {pct(xs, 50):.1f} | {pct(xs, 99):.1f} | {max(xs) if xs else float('nan'):.1f} |")
    for name, (ts, tp) in base.items():
        print(f"| baseline: parse only, {name} | {len(ts)} | {pct(ts, 50):.1f} | {pct(ts, 99):.1f} | {max(ts):.1f} |")
        print(f"| baseline: price only, {name} | {len(tp)} | {pct(tp, 50):.1f} | {pct(tp, 99):.1f} | {max(tp):.1f} |")
    print()
    print("| sustained load | posted | received | processed | quotes | duplicates | lost | drained after last post |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    print(f"| {args.rate:g}/s for {seconds:g} s (posted in {load['posted_s']:.1f} s) | {load['posted']} | "
          f"{load['received']} | {load['processed']} | {load['quotes']} | {load['duplicates']} | {load['lost']} | "
          f"{load['drain_s']:.2f} s |")
    fast, fine, mc, nx, spd = acc
    print()
    print(f"snowball fair coupon: service PDE {nx} x {spd:g}/day {100 * fast:.4f}%, fine PDE 3201 x 16/day "
          f"{100 * fine:.4f}% (difference {1e4 * (fast - fine):+.2f} bp of coupon), Monte Carlo 400,000 paths "
          f"{100 * mc:.4f}%")


if __name__ == "__main__":
    main()
