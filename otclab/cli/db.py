"""``otclab db upgrade|current``: the store's schema (Alembic migrations)."""
from __future__ import annotations

from typing import Optional

import typer

from ._store import db_option

NAME = "db"
app = typer.Typer(help="The store's database schema: upgrade it, show its revision.", no_args_is_help=True)


@app.command("upgrade")
def upgrade_cmd(db: Optional[str] = db_option()) -> None:
    """Apply the migrations the code has and the database lacks."""
    from sqlalchemy import create_engine

    from ..store.db import _normalise, default_url
    from ..store.migrate import upgrade

    url = _normalise(db or default_url())
    print(f"{url.render_as_string(hide_password=True)}: at revision {upgrade(create_engine(url))}")


@app.command("current")
def current_cmd(db: Optional[str] = db_option()) -> None:
    """The database's schema revision and the one the code expects."""
    from sqlalchemy import create_engine

    from ..store.db import _normalise, default_url
    from ..store.migrate import current, head_revision

    url = _normalise(db or default_url())
    print(f"{url.render_as_string(hide_password=True)}: revision {current(create_engine(url)) or 'none'} "
          f"(code: {head_revision()})")
