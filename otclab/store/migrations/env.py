"""Alembic environment for the otclab store: runs on the connection handed over by
``otclab.store.migrate`` (or on ``sqlalchemy.url`` / ``OTCLAB_DB_URL`` when run by ``alembic``)."""
from alembic import context
from sqlalchemy import create_engine

from otclab.store.tables import metadata


def _run(conn) -> None:
    context.configure(connection=conn, target_metadata=metadata, render_as_batch=True)
    context.run_migrations()


if context.is_offline_mode():
    context.configure(url=context.config.get_main_option("sqlalchemy.url"), target_metadata=metadata,
                      literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
elif context.config.attributes.get("connection") is not None:
    _run(context.config.attributes["connection"])
else:
    from otclab.store.db import _normalise, default_url

    url = context.config.get_main_option("sqlalchemy.url") or default_url()
    with create_engine(_normalise(url)).begin() as conn:
        _run(conn)
