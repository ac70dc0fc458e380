"""Argument handling shared by the analytic formulas: array module, broadcasting, option flags.

Every formula accepts scalars or arrays (NumPy or CuPy) that broadcast against each other and
returns float64 arrays of the broadcast shape (0-d for all-scalar input). The array module is the
one of the first argument that is an array (has ``ndim``); Python numbers follow it.
"""
from __future__ import annotations

import numpy as np

from otclab.core.backend import xp_of
from otclab.core.errors import TermsError

OPTION_TYPES = ("call", "put")
BARRIER_TYPES = ("up_out", "up_in", "down_out", "down_in")


def array_module(*values):
    """The array module (numpy or cupy) of the first value that is an array; numpy if none is."""
    for value in values:
        if hasattr(value, "ndim"):
            return xp_of(value)
    return np


def as_float_arrays(*values):
    """``(xp, [arrays])``: the values as float64 arrays of one module, broadcast to one shape."""
    xp = array_module(*values)
    arrays = [xp.asarray(v, dtype=xp.float64) for v in values]
    return xp, list(xp.broadcast_arrays(*arrays))


def disc_time(T, T_disc):
    """Discounting time: ``T_disc`` if given, else the diffusion time ``T``."""
    return T if T_disc is None else T_disc


def _holds_strings(value):
    """Whether ``value`` is a string or a (host) array/list of strings rather than booleans."""
    dtype = getattr(value, "dtype", None)
    kind = dtype.kind if dtype is not None else np.asarray(value).dtype.kind
    return kind in "USO"


def _labels_to_codes(xp, labels, allowed, field):
    """Integer codes (index into ``allowed``) of a string or an array/list of strings, on ``xp``."""
    names = np.char.lower(np.char.strip(np.asarray(labels, dtype=str)))
    codes = np.full(names.shape, -1, dtype=np.int64)
    for code, name in enumerate(allowed):
        codes[names == name] = code
    if (codes < 0).any():
        bad = sorted(set(names[codes < 0].ravel().tolist()))
        raise TermsError(f"unknown value(s) {bad}; allowed: {', '.join(allowed)}", field=field)
    return xp.asarray(codes)


def option_sign(xp, option_type):
    """+1.0 for calls, -1.0 for puts (the phi of the textbook formulas), as a float64 array.

    ``option_type`` is "call"/"put" (any case), an array or list of such strings, or a boolean
    array ``is_call`` (NumPy or CuPy). Strings live on the host, so string arrays are converted
    there and the resulting signs moved to ``xp``.
    """
    if _holds_strings(option_type):
        codes = _labels_to_codes(xp, option_type, OPTION_TYPES, "option_type")
        return 1.0 - 2.0 * codes.astype(xp.float64)
    is_call = xp.asarray(option_type)
    if is_call.dtype.kind != "b":
        raise TermsError("expected 'call'/'put' strings or a boolean is_call array, "
                         f"got dtype {is_call.dtype}", field="option_type")
    return xp.where(is_call, 1.0, -1.0)


def barrier_codes(xp, barrier_type):
    """Index into ``BARRIER_TYPES`` of a barrier type string or array/list of strings."""
    return _labels_to_codes(xp, barrier_type, BARRIER_TYPES, "barrier_type")
