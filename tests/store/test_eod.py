"""End of day on the demo store: the snapshot's ids reproduce its numbers, values are signed from
the desk's view, the P&L explain adds up, margin and exports."""
import numpy as np
import pandas as pd
import pytest

from otclab.book import price_book
from otclab.store import markets, risk
from otclab.store.book import load_book
from otclab.workflows.demo import EOD_DATE, LAST_CLOSE
from otclab.workflows.eod.explain import TERMS, explain
from otclab.workflows.eod.run import live_on, pricing_contracts, run_eod


def test_the_snapshot_names_what_it_used_and_its_totals_are_its_rows(demo):
    st = demo["store"]
    with st.connect() as c:
        h = risk.header(c)
        rows = risk.rows(c, h["id"])
        mkt = markets.get(c, h["market_snapshot_id"])
        live = live_on(c, EOD_DATE)
    assert h["valuation_date"] == EOD_DATE and h["kind"] == "eod"
    assert h["settings"]["paths"] == 400 and h["settings"]["seed"] == 20240101
    assert len(rows) == len(live) == h["trades"] and rows["error"].isna().all()
    assert set(h["template_versions"]) == set(rows["template"])
    assert h["totals"]["value"] == pytest.approx(rows["value"].sum())
    assert h["totals"]["cash_delta"] == pytest.approx(rows["cash_delta"].sum())
    # the market marks on the day's closes
    closes = demo["closes"]
    assert all(mkt.spot(u) == closes[u][EOD_DATE] for u in rows["underlying"].unique())
    assert {"analytic", "fused-cpu"} <= set(rows["engine"])


def test_a_row_is_reproduced_from_the_ids_the_snapshot_shows(demo):
    """Normals depend on (seed, underlying, path, date) only: one contract priced alone with the
    snapshot's market, paths and seed gives its row's value exactly."""
    st = demo["store"]
    with st.connect() as c:
        h = risk.header(c)
        rows = risk.rows(c, h["id"]).set_index("trade_id")
        mkt = markets.get(c, h["market_snapshot_id"])
        live = {t.trade_id: t for t in live_on(c, EOD_DATE)}
        picks = [tid for tid in rows.index if rows.loc[tid, "engine"] == "fused-cpu"][:3]
        picks += [tid for tid in rows.index if rows.loc[tid, "engine"] == "analytic"][:2]
        contracts = pricing_contracts(c, [live[t] for t in picks], EOD_DATE)
    for tid, contract in zip(picks, contracts):
        df = price_book([contract], mkt, paths=h["settings"]["paths"], seed=h["settings"]["seed"], greeks=True,
                        engine="auto", device="cpu")
        sign = 1 if live[tid].record.direction == "buy" else -1
        assert sign * df["value"][0] == pytest.approx(rows.loc[tid, "value"], rel=1e-12, abs=1e-6), tid
        assert sign * df["vega"][0] == pytest.approx(rows.loc[tid, "vega"], rel=1e-9, abs=1e-6), tid


def test_values_and_greeks_are_signed_from_the_desks_view(demo):
    with demo["store"].connect() as c:
        rows = risk.rows(c, risk.header(c)["id"])
    notes = rows[rows.template.isin(["snowball", "phoenix"])]
    assert (notes.direction == "sell").all() and (notes.value < 0).all()        # the desk owes the notes
    bought = rows[(rows.template == "vanilla") & (rows.direction == "buy")]
    sold = rows[(rows.template == "vanilla") & (rows.direction == "sell")]
    assert (bought.value > 0).all() and (sold.value < 0).all()


def test_margin_rows_per_counterparty(demo):
    with demo["store"].connect() as c:
        h = risk.header(c)
        m = risk.margin(c, h["id"])
        live = live_on(c, EOD_DATE)
    assert set(m.counterparty_id) == {t.record.counterparty.id for t in live}
    assert (m.required >= 0).all() and set(m.action) <= {"call", "return", "none"}
    big = m[m.action != "none"]
    assert (big.call.abs() >= 100_000).all()
    assert np.allclose(m[m.action == "call"].call, (m.required - m.held)[m.action == "call"])


def test_the_next_day_and_its_pnl_explain_add_up(demo, tmp_path):
    st = demo["store"]
    rep = run_eod(st, LAST_CLOSE, paths=400)
    with st.connect() as c:
        ex = explain(c)
        prev = risk.rows(c, ex.previous["id"]).set_index("trade_id")
        now = risk.rows(c, ex.snapshot["id"]).set_index("trade_id")
    assert ex.previous["valuation_date"] == EOD_DATE and ex.snapshot["id"] == rep.snapshot_id
    t = ex.trades.set_index("trade_id")
    assert np.allclose(t[list(TERMS)].sum(axis=1), t["total"])
    held = t[t.status == "held"].index
    assert np.allclose(t.loc[held, "total"] - t.loc[held, "lifecycle_cash"],
                       now.loc[held, "value"] - prev.loc[held, "value"])
    tid = held[0]
    assert t.loc[tid, "delta"] == pytest.approx(prev.loc[tid, "delta"] * (now.loc[tid, "spot"] - prev.loc[tid, "spot"]))
    assert ex.total["total"] == pytest.approx(t["total"].sum())
    assert ex.by_underlying["total"].sum() == pytest.approx(ex.total["total"])
    # the Greeks explain most of a day's P&L of the book
    assert abs(ex.total["unexplained"]) < 0.5 * max(abs(ex.total["total"]), 1.0)


def test_exports_are_readable_tables(demo, tmp_path):
    from otclab.cli.main import main

    assert main(["eod", "export", str(tmp_path / "rows.parquet"), "--db", demo["url"]]) == 0
    assert main(["eod", "export", str(tmp_path / "margin.csv"), "--what", "margin", "--db", demo["url"]]) == 0
    rows = pd.read_parquet(tmp_path / "rows.parquet")
    assert {"snapshot_id", "trade_id", "value", "delta", "vega", "theta", "rho"} <= set(rows.columns)
    assert len(pd.read_csv(tmp_path / "margin.csv")) > 0
    assert main(["eod", "export", str(tmp_path / "rows.xlsx"), "--db", demo["url"]]) == 2


def test_load_book_as_of_a_past_date_sees_the_book_as_it_stood(demo):
    with demo["store"].connect() as c:
        then = {t.trade_id: t.status for t in load_book(c, as_of=EOD_DATE.replace(month=6))}
        now = {t.trade_id: t.status for t in load_book(c)}
    changed = [k for k in now if then[k] != now[k]]
    assert changed and all(then[k] == "live" for k in changed)
