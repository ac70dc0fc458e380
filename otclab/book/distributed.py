"""Scale-out: the book split into independent chunks, priced on several GPUs or through Dask.

Chunks are priced independently with the same seed, so a contract's value does not depend on
which worker priced it. ``price_book_multi_gpu`` starts one Dask worker process per GPU of this
host, prices the book split by cost and stops the cluster (for repeated refreshes keep a
``gpu_cluster.MultiGpuPricer`` open instead); ``price_book_dask`` submits fixed-size chunks to
an existing Dask cluster (a scheduler address or a ``Client``) — Dask handles placement,
retries and data movement. ``scenario_grid_multi_gpu`` and ``scenario_grid_dask`` do the same
for scenario grids (each chunk's grid on its worker; the long tables merged in the input order,
the book's P&L matrix summed from them).
"""
from __future__ import annotations

import time

import pandas as pd

from .balance import merge_chunks
from .gpu_cluster import MultiGpuPricer
from .pricing import check_book, price_book
from .scenarios import grid_matrix, scenario_grid


def chunks(contracts, size: int):
    """Consecutive chunks of at most ``size`` contracts."""
    size = max(1, int(size))
    return [list(contracts[i:i + size]) for i in range(0, len(contracts), size)]


def price_book_multi_gpu(contracts, market, gpus=None, device: str = "gpu", **kw) -> pd.DataFrame:
    """Price the book across the GPUs of this host (default: all it sees), one worker process
    per GPU, and stop the workers. ``kw`` as ``price_book``. ``attrs["timing"]`` as
    ``MultiGpuPricer.price``, ``start_s`` (cluster start) and ``total_s`` (this call) added.
    ``device="cpu"`` with ``gpus=[0, 1]`` runs the same path on NumPy (tests, CI)."""
    t0 = time.perf_counter()
    with MultiGpuPricer(gpus, device=device, warm=False) as pricer:
        df = pricer.price(contracts, market, **kw)
    df.attrs["timing"].update(start_s=pricer.start_s, total_s=time.perf_counter() - t0)
    return df


def _price_chunk(chunk, market, kw):
    return price_book(chunk, market, **kw)


def _on_dask(part, contracts, market, client, address, chunk_size: int, kw: dict) -> pd.DataFrame:
    """Run ``part(chunk, market, kw)`` on chunks of ``chunk_size`` contracts through Dask
    (``client``, or a new one on ``address``) and merge the frames back in the input order;
    ``attrs["timing"]`` gives the wall time and the seconds of every chunk."""
    from dask.distributed import Client

    own = client is None
    client = client or Client(address)
    try:
        t0 = time.perf_counter()
        contracts = list(contracts)
        check_book(contracts)           # the whole book: duplicate ids across chunks too
        mkt = client.scatter(market, broadcast=True)
        parts = chunks(contracts, chunk_size)
        starts = range(0, len(contracts), max(1, int(chunk_size)))
        frames = client.gather([client.submit(part, c, mkt, {**kw, "positions": list(range(s0, s0 + len(c)))},
                                              pure=False) for s0, c in zip(starts, parts)])
        df = merge_chunks(contracts, frames, [range(s, s + len(c)) for s, c in zip(starts, parts)])
        per_chunk = [{**f.attrs.get("timing", {}), "contracts": len(c)} for f, c in zip(frames, parts)]
        df.attrs["timing"] = {"wall_s": time.perf_counter() - t0, "chunks": len(parts), "per_chunk": per_chunk,
                              "slowest_chunk_s": max((p.get("total_s", 0.0) for p in per_chunk), default=0.0)}
        return df
    finally:
        if own:
            client.close()


def price_book_dask(contracts, market, client=None, address: str | None = None, chunk_size: int = 250,
                    **kw) -> pd.DataFrame:
    """Price the book through Dask: ``client`` or ``address`` (``tcp://host:8786``) of a scheduler."""
    return _on_dask(_price_chunk, contracts, market, client, address, chunk_size, kw)


def scenario_grid_multi_gpu(contracts, market, gpus=None, device: str = "gpu", **kw):
    """``scenario_grid`` across the GPUs of this host (one worker process per GPU), then stop the
    workers: (long table, P&L matrix). For repeated grids keep a ``MultiGpuPricer`` open."""
    with MultiGpuPricer(gpus, device=device, warm=False) as pricer:
        return pricer.scenarios(contracts, market, **kw)


def _grid_chunk(chunk, market, kw):
    return scenario_grid(chunk, market, **kw)[0]


def scenario_grid_dask(contracts, market, client=None, address: str | None = None, chunk_size: int = 250, **kw):
    """``scenario_grid`` through Dask in chunks of ``chunk_size``: (long table, P&L matrix)."""
    long = _on_dask(_grid_chunk, contracts, market, client, address, chunk_size, kw)
    return long, grid_matrix(long)
