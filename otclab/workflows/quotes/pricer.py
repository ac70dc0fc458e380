"""Price one chat request: its template and terms, the engine, the value or the solved term.

Pure: the same request, market and settings give the same numbers, so a message whose
processing died before its commit is simply priced again.

- Terms: ``otclab.rfq.to_trade.request_terms`` with the desk's defaults (``default_notional``; a
  trial value of the term solved for). The quote starts on the market's valuation date at the
  market's spot (``initial_price``).
- What is asked (``solve_for``): ``coupon`` (snowball, phoenix: the fair coupon, the note at par)
  and ``participation`` (shark fins, quoted as a principal-protected note unless the chat names
  the form) are solved; the value is linear in both, so two valuations give the exact root (the
  same answer as ``otclab solve``, which adds a third valuation to confirm it); ``price`` (or
  nothing) is the value; ``vol`` is the value and the model vol it used; ``strike`` is priced at
  the stated strike.
- Engine: the closed form where it is exact, else the PDE on the configured grid
  (``pde_n_x`` × ``pde_steps_per_day``; benchmarks/quote_flow.py states the accuracy against a
  fine grid), else Monte Carlo (``mc_paths``, on the GPU when there is one).
- With a ``pool`` (``ValuationPool``: ``pricing_processes`` worker processes, started once by the
  service), the two valuations of a solve run at the same time in two processes, outside the
  server's interpreter lock; the numbers are the same as without it (the engines are deterministic,
  Monte Carlo by its seed).

``Incomplete`` lists what the chat must still say (no underlying, no tenor, a required term);
any other ``OtcError`` means the request cannot be priced as stated.
"""
from __future__ import annotations

import functools
import json
import time
from pathlib import Path

from ...core.errors import OtcError, TermsError
from ...rfq.request import FIELDS, QuoteRequest
from ...rfq.to_trade import NOT_TERMS, RENAMES, request_terms
from .errors import ConfigError

LINEAR = {("snowball", "coupon"), ("phoenix", "coupon"), ("sharkfin", "participation"),
          ("double_sharkfin", "participation_high")}
TRIAL = {"coupon": 0.10, "participation": 1.0, "participation_high": 1.0}
SOLVED_TERM = {"double_sharkfin": {"participation": "participation_high"}}
LABELS = {"underlying": "标的", "structure": "产品结构（雪球、凤凰、鲨鱼鳍、看涨/看跌……）", "tenor_months": "期限",
          "option_type": "看涨还是看跌", "strike": "行权价", "ko_barrier": "敲出价", "ki_barrier": "敲入价",
          "barrier": "障碍价", "coupon_barrier": "派息线", "coupon": "票息", "participation": "参与率",
          "notional": "名义本金", "barrier_type": "障碍类型（向上/向下，敲入/敲出）", "rebate": "补偿收益",
          "lockup_months": "锁定期", "barrier_low": "下障碍价", "barrier_high": "上障碍价"}


class Incomplete(OtcError):
    """The request lacks what a price needs; ``missing`` are (field, what is wrong) pairs."""

    def __init__(self, missing: list[tuple[str, str]]):
        self.missing = missing
        super().__init__("; ".join(f"{f}: {m}" for f, m in missing), "request")


def device_for(setting: str) -> str:
    """``auto`` → gpu when CuPy sees a device, else cpu."""
    if setting != "auto":
        return setting
    return "gpu" if _has_gpu() else "cpu"


@functools.lru_cache(maxsize=1)
def _has_gpu() -> bool:
    try:
        import cupy

        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


# ---- the market -----------------------------------------------------------------------------
def load_market(conn, setting: str):
    """(market JSON data, source) for pricing quotes: ``store`` = the store's newest market
    snapshot; a ``.json`` file; or a feed folder (the risk service's ``FolderFeed``)."""
    from ...core.dates import Date
    from ...market.snapshot import MarketSnapshot
    from ...store import markets

    if setting == "store":
        row = markets.latest_on_or_before(conn, Date(9999, 12, 31))
        if row is None:
            raise ConfigError("the store holds no market snapshot; import one (`otclab market import`) or set "
                              "market = a JSON file or a feed folder", "market")
        return dict(row.data), row.id
    p = Path(setting)
    if p.is_dir():
        from ..risk.feed import FolderFeed

        snap, _, name = FolderFeed(p).latest()
        return snap.to_dict(), f"{p}/{name}"
    try:
        data = json.loads(p.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ConfigError(f"cannot read a market from {p}: {e}", "market") from None
    data.pop("as_of", None)
    return MarketSnapshot.from_dict(data).to_dict(), str(p)


# ---- one request ----------------------------------------------------------------------------
def _stated(req: QuoteRequest, template: str) -> dict:
    renames = RENAMES.get(template, {})
    return {renames.get(f, f): getattr(req, f) for f in FIELDS if f not in NOT_TERMS and getattr(req, f) is not None}


def check_complete(fields: dict) -> None:
    """Incomplete unless the request names an underlying, a product and a tenor."""
    missing = [(f, "not stated") for f in ("underlying", "structure", "tenor_months") if fields.get(f) is None]
    if missing:
        raise Incomplete(missing)


def _terms(req: QuoteRequest, market: dict, defaults: dict):
    spots = market.get("spots") or {}
    if req.underlying not in spots:
        raise OtcError(f"no spot for {req.underlying} in the market; the desk quotes "
                       f"{', '.join(sorted(k for k in spots if k != '*'))}", "request.underlying")
    try:
        return request_terms(req, start_date=market["valuation_date"], initial_price=float(spots[req.underlying]),
                             defaults=defaults)
    except TermsError as e:
        f = e.field or ""
        if f.startswith(("request.", "defaults.")):
            name = f.split(".", 1)[1].split("[")[0]
            raise Incomplete([(name, e.message)]) from None
        raise


def _value_job(template: str, version: str, raw_terms: dict, market: dict, engine_kw: dict):
    """One valuation in a pool process: (value, stderr, engine, details)."""
    from ...pricing import price
    from ...templates.loader import get_template

    tpl = get_template(template)
    if tpl.version != version:
        raise OtcError(f"the pricing process has {template} version {tpl.version}, the quote {version}; restart the "
                       "service after a template changes", "template_version")
    r = price({"template": tpl, "terms": raw_terms, "market": market}, **engine_kw)
    return r.value, r.stderr, r.engine, r.details


def _follow_parent(parent: int) -> None:
    """End this pool process when the server that started it dies (a SIGKILL leaves no one to
    shut the pool down): the kernel's parent-death signal on Linux, and a watch on the parent."""
    import os
    import signal
    import threading

    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, int(signal.SIGTERM))   # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass

    def watch():
        import time

        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()
    if os.getppid() != parent:
        os._exit(0)


def _start_process(parent: int) -> None:
    _follow_parent(parent)
    _warm()


def _warm() -> None:
    """Imports and templates loaded once per process, not by the first quote."""
    import importlib

    from ...templates.loader import get_template

    importlib.import_module("otclab.pricing")
    for name in ("vanilla", "snowball", "phoenix", "sharkfin"):
        try:
            get_template(name)
        except OtcError:
            pass


class ValuationPool:
    """Worker processes for valuations (spawned: the server has threads, so no fork)."""

    def __init__(self, processes: int):
        import multiprocessing
        import os
        from concurrent.futures import ProcessPoolExecutor

        self.processes = processes
        self.executor = ProcessPoolExecutor(max_workers=processes, mp_context=multiprocessing.get_context("spawn"),
                                            initializer=_start_process, initargs=(os.getpid(),))
        for f in [self.executor.submit(_warm) for _ in range(processes)]:
            f.result()

    def submit(self, *args):
        return self.executor.submit(_value_job, *args)

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)


class _Result:
    def __init__(self, value, stderr, engine, details):
        self.value, self.stderr, self.engine, self.details = value, stderr, engine, details


def price_request(fields: dict, market: dict, cfg, pool: ValuationPool | None = None) -> dict:
    """Template, version, terms and pricing of one parsed request (``QuoteRequest.to_dict()``
    fields) on ``market`` (JSON form) with the settings of ``cfg`` (QuoteConfig); ``pool`` runs
    a solve's two valuations in parallel processes."""
    from ...pricing import price

    check_complete(fields)
    t0 = time.perf_counter()
    req = QuoteRequest(**{k: v for k, v in fields.items() if k in FIELDS})
    solve_for = req.solve_for
    defaults: dict = {"notional": cfg.default_notional}
    solved_term = SOLVED_TERM.get(req.structure, {}).get(solve_for, solve_for)
    solving = (req.structure, solved_term) in LINEAR and solve_for in ("coupon", "participation")
    if solving:
        defaults[solved_term] = TRIAL[solved_term]
        if "participation" in solved_term:
            defaults.setdefault("form", "note")     # a shark-fin note: the participation its coupon budget buys
    tpl, terms = _terms(req, market, defaults)
    raw = {**{k: v for k, v in defaults.items() if k not in _stated(req, tpl.name)}, **_stated(req, tpl.name),
           "start_date": market["valuation_date"], "initial_price": float(market["spots"][req.underlying])}
    device = device_for(cfg.device)
    engine_kw = {"engine": "auto", "paths": cfg.mc_paths, "seed": cfg.seed, "device": device, "n_x": cfg.pde_n_x,
                 "steps_per_day": cfg.pde_steps_per_day}

    def value(raw_terms):
        return price({"template": tpl, "terms": raw_terms, "market": market}, **engine_kw)

    def values(*raws):
        if pool is None:
            return [value(r) for r in raws]
        futures = [pool.submit(tpl.name, tpl.version, raw_json(r), market, engine_kw) for r in raws]
        return [_Result(*f.result()) for f in futures]

    solved = None
    if solving:
        fair = tpl.get("FAIR_TARGET")
        target = (fair(terms) if callable(fair) else 0.0) * terms.notional
        a = float(raw.get(solved_term) or TRIAL[solved_term])
        b = a * 1.5 + 0.01
        ra, rb = values({**raw, solved_term: a}, {**raw, solved_term: b})
        if rb.value == ra.value:
            raise OtcError(f"the value does not depend on {solved_term}; cannot solve", f"solve.{solved_term}")
        x = b - (rb.value - target) * (b - a) / (rb.value - ra.value)
        raw = {**raw, solved_term: x}
        solved = {"field": solved_term, "value": x, "target": target}
        res = value(raw) if ra.engine == "mc" else None    # an MC value at x needs its own run for the s.e.
        base = res or ra
        val = target if res is None else res.value
        stderr = None if res is None else res.stderr
    else:
        base = value(raw)
        val, stderr = base.value, base.stderr
    final = tpl.schema.validate(raw)
    pricing = {"value": val, "value_pct": val / final.notional, "std_err": stderr, "engine": base.engine,
               "solved": solved, "vol": base.details.get("vol"), "rate": base.details.get("rate"),
               "spot": base.details.get("spot"), "maturity_date": base.details.get("maturity_date"),
               "device": base.details.get("device"), "seconds": time.perf_counter() - t0,
               "settings": {k: v for k, v in engine_kw.items() if k != "engine"},
               "terms_priced": raw_json(raw)}
    return {"template": tpl.name, "template_version": tpl.version, "terms": final.to_json(), "pricing": pricing,
            "notional": final.notional}


def raw_json(raw: dict) -> dict:
    """Terms as given to the pricer (dates as ISO text): ``otclab price``/``solve`` input."""
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in raw.items()}
