"""Scale-out: the book split into independent chunks, run on several GPUs or through Dask.

Chunks are priced independently with the same seed, so a contract's value does not depend on
which worker priced it. ``price_book_multi_gpu`` uses one thread per GPU of this host;
``price_book_dask`` submits chunks to a Dask cluster (a scheduler address, a ``Client``, or a
local cluster for tests) — Dask handles placement, retries and data movement.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pandas as pd

from .pricing import price_book


def chunks(contracts, size: int):
    """Consecutive chunks of at most ``size`` contracts."""
    size = max(1, int(size))
    return [list(contracts[i:i + size]) for i in range(0, len(contracts), size)]


def _merge(frames) -> pd.DataFrame:
    df = pd.concat(frames, ignore_index=True)
    df.attrs["timing"] = {"chunks": len(frames),
                          "run_s": max((f.attrs.get("timing", {}).get("total_s", 0.0) for f in frames), default=0.0)}
    return df


def _price_on_gpu(gpu: int, chunk, market, kw):
    import cupy

    with cupy.cuda.Device(gpu):
        return price_book(chunk, market, device="gpu", **kw)


def price_book_multi_gpu(contracts, market, gpus=None, **kw) -> pd.DataFrame:
    """Price the book across the GPUs of this host (default: all), one chunk per GPU."""
    import cupy

    gpus = list(range(cupy.cuda.runtime.getDeviceCount())) if gpus is None else list(gpus)
    parts = chunks(contracts, -(-len(contracts) // len(gpus)))
    with ThreadPoolExecutor(len(parts)) as pool:
        frames = list(pool.map(lambda a: _price_on_gpu(a[0], a[1], market, kw), zip(gpus, parts)))
    return _merge(frames)


def _price_chunk(chunk, market, kw):
    return price_book(chunk, market, **kw)


def price_book_dask(contracts, market, client=None, address: str | None = None, chunk_size: int = 250,
                    **kw) -> pd.DataFrame:
    """Price the book through Dask: ``client`` or ``address`` (``tcp://host:8786``) of a scheduler."""
    from dask.distributed import Client

    own = client is None
    client = client or Client(address)
    try:
        mkt = client.scatter(market, broadcast=True)
        futures = [client.submit(_price_chunk, c, mkt, kw, pure=False) for c in chunks(contracts, chunk_size)]
        return _merge(client.gather(futures))
    finally:
        if own:
            client.close()
