"""KYC performance (issue 15): screening one case against 100,000 list entries, and checking 1000
bookings against onboarding status, each with a baseline measured in the same run.

Screening: a case's subjects (institution, legal representative, two beneficial owners) against
a synthetic FollowTheMoney list of ``--entries`` entities (``otclab.kyc.demo_lists``, Chinese and
Latin names with aliases), by the n-gram-blocked search (``ScreeningList.search``) and by the
baseline, ``rapidfuzz.process.extract`` over every name (``search_bruteforce``); both must return
the same hits. The index is built once per list version (timed separately: it is paid when a
list is registered or first used, not per case).

Bookings: ``check_counterparties`` for 1000 bookings over 2000 clients in a SQLite store (one
query), against the baseline of one ``client_status`` query per booking.

    python3 benchmarks/kyc.py [--entries 100000] [--repeat 5]
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def timed(fn, repeat):
    out, ts = None, []
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        ts.append(time.perf_counter() - t)
    return out, statistics.median(ts)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--entries", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--clients", type=int, default=2000)
    ap.add_argument("--bookings", type=int, default=1000)
    a = ap.parse_args()

    from otclab.kyc.demo_lists import demo_entities
    from otclab.kyc.screening import ScreeningList, _entity, screen_subjects, subjects_of

    t = time.perf_counter()
    ents = demo_entities(a.entries, seed=99)
    entries = [e for e in (_entity(x, "bench") for x in ents) if e]
    gen_s = time.perf_counter() - t
    sl = ScreeningList("bench", "v", entries)
    t = time.perf_counter()
    sl.build()
    build_s = time.perf_counter() - t
    names = sum(len(e.names) for e in entries)
    # a case whose names are near some entries (a Chinese company, a Chinese person, a Latin one)
    case = {"name": ents[7]["properties"]["name"][0].replace("有限公司", "控股有限公司") if "有限公司" in
            ents[7]["properties"]["name"][0] else "华东恒信投资控股有限公司",
            "legal_rep_name": "张建华", "beneficial_owners": ["Viktor Petrovv,40%", "王海燕,30%"]}
    from otclab.kyc.rules import screened_owners

    subjects = subjects_of(case, screened_owners(case))
    cutoff = 85.0
    fast, fast_s = timed(lambda: screen_subjects([sl], subjects, cutoff), a.repeat)

    def brute():
        out = []
        for s in subjects:
            for h in sl.search_bruteforce(s["name"], cutoff, set(s.get("schemas") or []) or None):
                out.append({"subject_role": s["role"], "subject_name": s["name"], **h})
        return out

    slow, slow_s = timed(brute, max(1, min(a.repeat, 3)))
    same = fast == slow

    # ---- bookings ----------------------------------------------------------------------------
    from otclab.kyc.clients import check_counterparties, client_status
    from otclab.kyc.demo import onboard
    from otclab.store.db import Store

    d = tempfile.mkdtemp(prefix="kyc-bench-")
    os.environ["OTCLAB_DATA"] = d
    os.environ["OTCLAB_KYC_EVIDENCE"] = str(Path(d) / "ev.sqlite")
    st = Store(f"sqlite:///{d}/otclab.db")
    onboard(st, [f"CP{i:05d}" for i in range(a.clients)], by="bench")
    items = [(f"CP{(i * 7) % (a.clients + 100):05d}", "snowball", 1e5) for i in range(a.bookings)]
    with st.connect() as conn:
        batch, batch_s = timed(lambda: check_counterparties(conn, items), a.repeat)

        def one_by_one():
            return [client_status(conn, cp) for cp, _, _ in items]

        each, each_s = timed(one_by_one, max(1, min(a.repeat, 3)))
    refused = sum(r is not None for r in batch)
    agree = [r is None for r in batch] == [s.tradable for s in each]

    cpu = f"{os.cpu_count()} CPU cores, {platform.processor() or platform.machine()}, Python {platform.python_version()}"
    print(f"KYC benchmark: {cpu}; list of {len(entries):,} entities ({names:,} names; generated in {gen_s:.1f} s, "
          f"index built in {build_s:.1f} s), {len(subjects)} subjects, cutoff {cutoff:g}; "
          f"{a.bookings} bookings over {a.clients} clients; median of {a.repeat}")
    print(f"{'task':42s} {'method':34s} {'seconds':>9s} {'speed-up':>9s} {'target':>8s}  result")
    print(f"{'screen one case vs ' + format(len(entries), ',') + ' entries':42s} {'rapidfuzz.process.extract, all':34s} "
          f"{slow_s:9.4f} {'1.0x':>9s} {'':>8s}  {len(slow)} hits")
    print(f"{'':42s} {'n-gram blocked + rapidfuzz':34s} {fast_s:9.4f} {slow_s / fast_s:8.1f}x {'0.200':>8s}  "
          f"{len(fast)} hits, same as baseline: {same}")
    print(f"{'check ' + str(a.bookings) + ' bookings':42s} {'client_status per booking':34s} {each_s:9.4f} "
          f"{'1.0x':>9s} {'':>8s}  {a.bookings - sum(s.tradable for s in each)} refused")
    print(f"{'':42s} {'check_counterparties (1 query)':34s} {batch_s:9.4f} {each_s / batch_s:8.1f}x {'1.000':>8s}  "
          f"{refused} refused, same as baseline: {agree}")
    for h in fast[:8]:
        print(f"  hit: {h['subject_role']:11s} {h['subject_name']} ~ {h['entry_name']} ({h['entry_id']}, {h['schema']}) "
              f"score {h['score']}")
    if len(fast) > 8:
        print(f"  ... {len(fast) - 8} more (synthetic names repeat: {len(set(h['entry_name'] for h in fast))} distinct)")
    if not (same and agree):
        raise SystemExit("the fast path disagrees with the baseline")


if __name__ == "__main__":
    main()
