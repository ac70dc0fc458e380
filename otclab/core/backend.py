"""Array backend: NumPy by default, CuPy when asked for; engines take ``xp`` and never branch.

The device is a setting: ``get_xp("gpu")``, the ``OTCLAB_DEVICE`` environment variable, or
``set_device``. Code written against ``xp`` runs unchanged on both.
"""
from __future__ import annotations

import os

import numpy as np

from .errors import EngineError

_DEVICE: str | None = None
_ALIASES = {"cpu": "cpu", "numpy": "cpu", "np": "cpu", "gpu": "gpu", "cuda": "gpu", "cupy": "gpu"}


def set_device(device: str) -> None:
    """Set the default device for engines ("cpu" or "gpu")."""
    global _DEVICE
    _DEVICE = _normalise(device)


def default_device() -> str:
    return _DEVICE or _normalise(os.environ.get("OTCLAB_DEVICE", "cpu"))


def _normalise(device: str) -> str:
    try:
        return _ALIASES[str(device).lower()]
    except KeyError:
        raise EngineError(f"unknown device {device!r}; allowed: cpu, gpu", field="device") from None


def get_xp(device: str | None = None):
    """The array module for ``device`` (default: the configured one): numpy or cupy."""
    dev = _normalise(device) if device is not None else default_device()
    if dev == "cpu":
        return np
    try:
        import cupy  # noqa: PLC0415 - optional dependency, only on GPU machines

        cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # ImportError or no CUDA device
        raise EngineError(
            f"device 'gpu' needs CuPy and an NVIDIA GPU ({type(exc).__name__}: {exc}); "
            "install the 'gpu' extra or use device 'cpu'", field="device") from None
    return cupy


def xp_of(array):
    """The array module an array belongs to."""
    mod = type(array).__module__.split(".")[0]
    if mod == "cupy":
        import cupy  # noqa: PLC0415

        return cupy
    return np


def to_numpy(array):
    """A NumPy copy of a NumPy or CuPy array (or scalar)."""
    if hasattr(array, "get"):
        return array.get()
    return np.asarray(array)
