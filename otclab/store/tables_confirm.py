"""The store's tables for confirmations against the book (issue 17), on the store's one metadata
(otclab.store.tables imports this module, so every table is known wherever the store is).
The migration that creates them is in migrations/versions."""
from __future__ import annotations

from .tables import metadata  # noqa: F401
