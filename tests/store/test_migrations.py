"""The schema comes from the Alembic migrations: a new database is created at the head, an older
one is refused until ``otclab db upgrade`` brings it there, keeping its rows."""
import pytest
from sqlalchemy import create_engine, inspect, text

from otclab.cli.main import main
from otclab.store.db import Store, StoreError, _normalise
from otclab.store.migrate import _config, head_revision


def test_an_old_store_is_refused_until_upgraded(db_url, capsys):
    from alembic import command

    engine = create_engine(_normalise(db_url))
    with engine.begin() as conn:
        command.upgrade(_config(conn), "0001")
        conn.execute(text("INSERT INTO trades (trade_id, uti, created_at) VALUES ('OLD1', 'UTIOLD1', '2025-01-02')"))
    engine.dispose()
    with pytest.raises(StoreError, match=rf"at schema revision 0001, the code expects {head_revision()}; run `otclab db upgrade`"):
        Store(db_url)
    assert main(["trades", "list", "--db", db_url]) == 2
    assert "otclab db upgrade" in capsys.readouterr().err
    assert main(["db", "upgrade", "--db", db_url]) == 0
    assert f"at revision {head_revision()}" in capsys.readouterr().out
    st = Store(db_url)
    with st.connect() as c:
        assert "counterparty_lei" in {col["name"] for col in inspect(c).get_columns("trade_versions")}
        assert c.execute(text("SELECT trade_id FROM trades")).scalar() == "OLD1"
    st.dispose()


def test_a_new_store_is_created_at_the_head(store, capsys):
    assert main(["db", "current", "--db", store.url.render_as_string(hide_password=False)]) == 0
    assert f"revision {head_revision()} (code: {head_revision()})" in capsys.readouterr().out
