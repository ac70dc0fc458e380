"""One Dask worker process per GPU of this host, and a book pricer that reuses it for refreshes.

Each worker is a ``Nanny``-managed process started with ``CUDA_VISIBLE_DEVICES=<its GPU>`` and
one thread, as dask-cuda's ``LocalCUDACluster`` does: inside the worker its GPU is device 0,
and the host-side work (parsing contracts, building the program rows) runs in parallel across
processes instead of sharing one GIL. ``device="cpu"`` starts the same cluster with workers
pricing on NumPy (the GPU indices then only label the workers), so tests exercise this code.

``MultiGpuPricer`` starts the cluster once, warms every worker (imports, templates, the CUDA
kernel compiled by pricing a tiny book) and then prices each refresh split across the workers,
one chunk per worker, chunks balanced by cost (``balance.py``). A contract's random numbers are
keyed by (seed, underlying, path, step), not by its chunk, so the values are those of one
process (bit for bit on CPU; to float rounding of the kernel's reductions on GPU).
"""
from __future__ import annotations

import logging
import os
import time
from typing import Self

import pandas as pd

from ..core.backend import _normalise, get_xp
from ..core.errors import EngineError
from .balance import balanced_split, contract_costs, merge_chunks
from .pricing import _as_market, check_book, price_book
from .scenarios import grid_matrix, scenario_grid


def resolve_gpus(gpus=None, device: str = "gpu") -> list[str]:
    """The GPUs to start workers on, as ``CUDA_VISIBLE_DEVICES`` entries (indices or UUIDs, as
    the driver numbers them: not relative to this process's own ``CUDA_VISIBLE_DEVICES``).

    ``None``: every GPU this process sees (the entries of ``CUDA_VISIBLE_DEVICES`` if it is set,
    else 0..count-1); with ``device="cpu"`` the list must be given (it names the workers).
    """
    dev = _normalise(device)
    if gpus is None:
        if dev == "cpu":
            raise EngineError("with device 'cpu' give the worker slots explicitly, e.g. gpus=[0, 1]", "gpus")
        visible = os.environ.get("CUDA_VISIBLE_DEVICES")
        if visible is not None and visible.strip():
            gpus = [v.strip() for v in visible.split(",") if v.strip()]
        else:
            gpus = list(range(get_xp("gpu").cuda.runtime.getDeviceCount()))
    if isinstance(gpus, str):
        gpus = [g for g in gpus.split(",") if g.strip()]
    elif isinstance(gpus, int):
        gpus = [gpus]
    out = []
    for g in gpus:
        s = str(g).strip()
        if isinstance(g, bool) or not s or "," in s or s.startswith("-"):
            raise EngineError(f"each entry is a GPU index >= 0 or a GPU UUID; got {g!r}", "gpus")
        out.append(s)
    if not out:
        raise EngineError("give at least one GPU (e.g. gpus=[0, 1]); got an empty list", "gpus")
    if len(set(out)) != len(out):
        raise EngineError(f"each GPU at most once (one worker per GPU); got {list(gpus)!r}", "gpus")
    return out


def gpu_cluster(gpus=None, device: str = "gpu", dashboard_address: str | None = None,
                silence_logs: int = logging.ERROR):
    """A Dask ``SpecCluster`` on this host: a scheduler and one worker process per GPU.

    Worker ``gpu-<g>`` runs with ``CUDA_VISIBLE_DEVICES=<g>``, 1 thread and an equal share of
    the host memory; everything listens on 127.0.0.1 (the dashboard, if asked for, where
    ``dashboard_address`` says; it needs bokeh). Close it (or use ``with``) when done.
    """
    from distributed import Nanny, Scheduler, SpecCluster
    from distributed.system import MEMORY_LIMIT

    gpus = resolve_gpus(gpus, device)
    # without a dashboard the scheduler still serves /health on HTTP: a free local port, not 8787
    scheduler = {"cls": Scheduler, "options": {"host": "127.0.0.1", "port": 0,
                                               "dashboard": dashboard_address is not None,
                                               "dashboard_address": dashboard_address or "127.0.0.1:0"}}
    workers = {f"gpu-{g}": {"cls": Nanny, "options": {
        "host": "127.0.0.1", "nthreads": 1, "memory_limit": MEMORY_LIMIT // len(gpus),
        "env": {"CUDA_VISIBLE_DEVICES": g}, "dashboard": False, "silence_logs": silence_logs}}
        for g in gpus}
    return SpecCluster(workers=workers, scheduler=scheduler, silence_logs=silence_logs, name="otclab-gpus")


def _worker_info(device: str, card: bool = True) -> dict:
    """Where this worker runs: its name, CUDA_VISIBLE_DEVICES, pid and (on GPU) the card it sees
    as device 0 (name, PCI bus id: distinct across workers when each has its own GPU)."""
    from distributed import get_worker

    info = {"worker": get_worker().name, "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES"),
            "pid": os.getpid()}
    if device == "gpu" and card:
        import cupy

        rt = cupy.cuda.runtime
        name = rt.getDeviceProperties(0)["name"]
        info.update(gpus_seen=rt.getDeviceCount(), pci_bus_id=rt.deviceGetPCIBusId(0),
                    gpu_name=name.decode() if isinstance(name, bytes) else str(name))
    return info


def _warm(device: str) -> dict:
    """Price a tiny synthetic book on this worker: imports, templates and (GPU) the kernel."""
    from .synthetic import synthetic_book, synthetic_market

    t0 = time.perf_counter()
    price_book(synthetic_book(4, seed=1), synthetic_market(), paths=2048, greeks=True, device=device)
    return {**_worker_info(device), "warm_s": time.perf_counter() - t0}


_CACHE: dict = {}      # this worker's compiled contracts, kept between refreshes (compile_book)


def _price_part(contracts, market, device: str, kw: dict, cache: bool = True):
    """(timing, frame) of one chunk priced on this worker."""
    if len(_CACHE) > 100_000:
        _CACHE.clear()
    df = price_book(contracts, market, device=device, cache=_CACHE if cache else None, **kw)
    return {**df.attrs["timing"], **_worker_info(device, card=False)}, df


def _grid_part(contracts, market, device: str, kw: dict, cache: bool = True):
    """(timing, long table) of one chunk's scenario grid on this worker."""
    long, _ = scenario_grid(contracts, market, device=device, **kw)
    return {**long.attrs["timing"], **_worker_info(device, card=False)}, long


class MultiGpuPricer:
    """Prices books on one worker process per GPU; start once, refresh many times.

    ``with MultiGpuPricer(gpus=[0, 1]) as p: df = p.price(book, market, paths=100_000)``.
    ``price`` takes ``price_book``'s keywords (paths, seed, greeks, scenarios) and returns its
    frame, in the input order, with ``attrs["timing"]``: ``wall_s`` (this call), ``chunks``,
    and ``per_chunk`` (worker, contracts, cost, compile/build/run/total seconds on the worker).
    Attributes ``start_s`` (cluster start) and ``warm`` (per worker: seconds, CUDA_VISIBLE_DEVICES,
    card) describe the startup. With ``cache`` (default) each worker keeps its contracts compiled
    between refreshes of the same day (``compile_book``); a contract keeps its worker while the
    book does not change, so later refreshes skip most of the compile.
    """

    def __init__(self, gpus=None, device: str = "gpu", warm: bool = True, dashboard_address: str | None = None,
                 cache: bool = True):
        self.device = _normalise(device)
        self.cache = cache
        self.gpus = resolve_gpus(gpus, self.device)
        self.warm_up = warm
        self.dashboard_address = dashboard_address
        self.cluster = self.client = None
        self.start_s = 0.0
        self.warm: list[dict] = []

    def start(self) -> Self:
        """Start the cluster, wait for every worker and (unless ``warm=False``) warm them."""
        from distributed import Client

        t0 = time.perf_counter()
        try:
            self.cluster = gpu_cluster(self.gpus, self.device, self.dashboard_address)
            self.client = Client(self.cluster)
            self.client.wait_for_workers(len(self.gpus), timeout=300)
            self.start_s = time.perf_counter() - t0
            if self.warm_up:
                futures = [self.client.submit(_warm, self.device, workers=[w], allow_other_workers=False,
                                              pure=False) for w in self.workers]
                self.warm = self.client.gather(futures)
        except BaseException:
            self.close()
            raise
        return self

    @property
    def workers(self) -> list[str]:
        """Worker names, one per GPU (``gpu-<g>``)."""
        return [f"gpu-{g}" for g in self.gpus]

    def worker_info(self) -> list[dict]:
        """Name, CUDA_VISIBLE_DEVICES, pid (and card) as each worker sees them."""
        futures = [self.client.submit(_worker_info, self.device, workers=[w], allow_other_workers=False, pure=False)
                   for w in self.workers]
        return self.client.gather(futures)

    def price(self, contracts, market, **kw) -> pd.DataFrame:
        """``price_book(contracts, market, **kw)`` split across the workers (see the class)."""
        return self._split(_price_part, contracts, market, kw, "price")

    def scenarios(self, contracts, market, **kw):
        """``scenario_grid(contracts, market, **kw)`` split across the workers: (long table in the
        input order, spot × vol P&L matrix of the whole book); timing as ``price``."""
        long = self._split(_grid_part, contracts, market, kw, "scenarios")
        return long, grid_matrix(long)

    def _split(self, part, contracts, market, kw, what: str):
        if self.client is None:
            raise RuntimeError("start the pricer first (MultiGpuPricer(...).start() or a with block)")
        if "device" in kw:
            raise EngineError(f"the device is the pricer's ({self.device!r}); do not pass it to {what}()", "device")
        t0 = time.perf_counter()
        contracts = list(contracts)
        check_book(contracts)           # the whole book: duplicate ids across chunks too
        snap = _as_market(market)
        check_book(contracts, snap)
        costs = contract_costs(contracts, snap)
        groups = balanced_split(costs, len(self.workers))
        if not groups:   # an empty book: what one process gives
            return part(contracts, snap, self.device, kw, self.cache)[1]
        # one chunk pinned to each worker; should a worker die, its chunk may go to another one
        # (any worker prices any chunk to the same numbers) instead of waiting for it forever
        futures = [self.client.submit(part, [contracts[i] for i in g], market, self.device,
                                      {**kw, "positions": [int(i) for i in g]}, self.cache,
                                      workers=[w], allow_other_workers=True, pure=False)
                   for g, w in zip(groups, self.workers)]
        results = self.client.gather(futures)
        df = merge_chunks(contracts, [r[1] for r in results], groups)
        per_chunk = [{**r[0], "contracts": len(g), "cost": int(costs[g].sum())} for r, g in zip(results, groups)]
        df.attrs["timing"] = {"wall_s": time.perf_counter() - t0, "chunks": len(groups), "per_chunk": per_chunk,
                              "slowest_chunk_s": max(p["total_s"] for p in per_chunk)}
        return df

    def close(self) -> None:
        """Stop the workers and the scheduler."""
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()
        self.client = self.cluster = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()
