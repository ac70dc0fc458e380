"""Limits on reading one confirmation: bytes, pages, pixels per rendered page, seconds, memory.

A confirmation comes from outside (a scanner, e-mail, a counterparty), so every reading of one is
bounded. Each limit has a default, an environment variable and a command-line option; the
effective value is the option if given, else the variable, else the default:

| limit | default | variable | past it |
| --- | --- | --- | --- |
| ``max_mb`` | 50 MB per file | ``OTCLAB_CONFIRM_MAX_MB`` | refused before it is opened |
| ``max_pages`` | 50 pages per file | ``OTCLAB_CONFIRM_MAX_PAGES`` | refused before any page is read |
| ``max_megapixels`` | 25 per rendered page | ``OTCLAB_CONFIRM_MAX_MEGAPIXELS`` | rendered at a lower dpi, with a warning |
| ``ocr_page_seconds`` | 60 s per OCR'd page | ``OTCLAB_CONFIRM_OCR_PAGE_SECONDS`` | stopped (child process killed) |
| ``file_seconds`` | 300 s per file | ``OTCLAB_CONFIRM_FILE_SECONDS`` | stopped (child process killed) |
| ``max_memory_mb`` | 4096 MB per file | ``OTCLAB_CONFIRM_MAX_MEMORY_MB`` | stopped (child process killed) |

Bytes, pages and pixels are enforced wherever a file is read; the seconds and the memory are
enforced by ``worker.Extractor``, which reads each file in a child process (the command line and
the inbox use it). Going past a limit raises ``LimitError`` (an ``InputError``, field ``file``)
whose message names the file, what was found, the limit and how to change it.
"""
from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass, fields

from ..core.errors import InputError

ENV_PREFIX = "OTCLAB_CONFIRM_"


@dataclass(frozen=True)
class Limits:
    """Bounds on reading one confirmation file (see the module doc for what each one does)."""

    max_mb: float = 50.0
    max_pages: int = 50
    max_megapixels: float = 25.0
    ocr_page_seconds: float = 60.0
    file_seconds: float = 300.0
    max_memory_mb: float = 4096.0

    def __post_init__(self):
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
                raise InputError(f"must be a finite number above 0, got {v!r} ({where(f.name)})", field=f.name)
        if self.max_pages != int(self.max_pages):
            raise InputError(f"must be a whole number of pages, got {self.max_pages!r} ({where('max_pages')})",
                             field="max_pages")
        object.__setattr__(self, "max_pages", int(self.max_pages))

    @property
    def max_bytes(self) -> int:
        return int(self.max_mb * 1_000_000)

    @property
    def max_pixels(self) -> int:
        return int(self.max_megapixels * 1_000_000)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_env(cls, env: dict | None = None, **given) -> "Limits":
        """Defaults, overridden by ``OTCLAB_CONFIRM_<NAME>`` variables, overridden by ``given``
        (keyword arguments that are not None, e.g. command-line options)."""
        env = os.environ if env is None else env
        values = {}
        for f in fields(cls):
            if given.get(f.name) is not None:
                values[f.name] = given[f.name]
                continue
            raw = env.get(ENV_PREFIX + f.name.upper(), "").strip()
            if raw:
                try:
                    values[f.name] = float(raw)
                except ValueError:
                    raise InputError(f"must be a number, got {raw!r}", field=ENV_PREFIX + f.name.upper()) from None
        unknown = set(given) - {f.name for f in fields(cls)}
        if unknown:
            raise TypeError(f"unknown limits: {sorted(unknown)}")
        return cls(**values)


def where(name: str) -> str:
    """How to set a limit: ``max_pages: --max-pages or OTCLAB_CONFIRM_MAX_PAGES``."""
    return f"{name}: --{name.replace('_', '-')} or {ENV_PREFIX}{name.upper()}"


class LimitError(InputError):
    """A confirmation file is past one of the ``Limits`` (``limit`` names which)."""

    def __init__(self, message: str, limit: str, field: str = "file", *, located: bool = False):
        self.limit = limit
        super().__init__(message if located else f"{message} ({where(limit)})", field=field)
