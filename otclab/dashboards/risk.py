"""The risk dashboard traders watch (``dashboards/risk.ipynb`` served by Voila): ipywidgets over the
latest risk snapshot of the store, updated in place when a new one lands.

It reads snapshots only, never prices: the header (book value, cash delta, 1% cash gamma, vega,
theta, rho, market and compute time, the snapshot id, a stale badge when the market is older than
two refresh intervals), exposures by underlying × structure × maturity bucket with a drill-down
to the trades and to one trade's terms, events and Greeks, the scenario heatmap of the book and
per underlying with spot ladders, the barrier watch list and where the book's knock-in levels
cluster, the calendar of the next five trading days, the P&L explain against the last end of day,
the limits with their utilisation, and exports of the grid (CSV, Excel). Every number shown comes
from the snapshot whose id the header shows. Chinese labels use the CJK font the project installs.
"""
from __future__ import annotations

import asyncio
import base64
import datetime as dt
import html
import io
import math
import os

import pandas as pd

FONTS = ["WenQuanYi Zen Hei", "Noto Sans CJK SC", "DejaVu Sans"]


def _cst(t: dt.datetime) -> dt.datetime:
    """China time (a naive time is UTC, as the store keeps it)."""
    t = t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc)
    return t.astimezone(dt.timezone(dt.timedelta(hours=8)))


def _fmt(v, digits: int = 0) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "–"
    if round(v, digits) == 0:
        v = 0.0                      # no "-0"
    return f"{v:,.{digits}f}"


def _pct(v, digits: int = 1) -> str:
    return "–" if v is None or (isinstance(v, float) and not math.isfinite(v)) else f"{100 * v:.{digits}f}%"


def _table(df: pd.DataFrame, cls: str, formats: dict | None = None, max_rows: int = 200) -> str:
    """An HTML table (escaped) with a CSS class the page and its tests find it by."""
    formats = formats or {}
    if df is None or df.empty:
        return f'<div class="{cls} otc-empty">(none)</div>'
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    body = []
    for _, r in df.head(max_rows).iterrows():
        cells = []
        for c in df.columns:
            v = r[c]
            f = formats.get(c)
            text = f(v) if f else (_fmt(v) if isinstance(v, float) else html.escape(str(v)))
            cells.append(f"<td>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    more = f'<div class="otc-more">{len(df) - max_rows} more rows</div>' if len(df) > max_rows else ""
    return f'<table class="{cls} otc-table"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>{more}'


CSS = """<style>
.otc-header {display:flex; flex-wrap:wrap; gap:10px; align-items:stretch; font-family:sans-serif}
.otc-card {border:1px solid #ccd; border-radius:6px; padding:6px 10px; min-width:130px; background:#fafbff}
.otc-card .k {font-size:11px; color:#556} .otc-card .v {font-size:18px; font-weight:600}
.otc-meta {font-size:12px; color:#334; margin-top:4px}
.otc-stale {background:#c62828; color:white; padding:3px 8px; border-radius:4px; font-weight:600}
.otc-failed {color:#c62828; font-size:12px; font-weight:600}
.otc-fresh {background:#2e7d32; color:white; padding:3px 8px; border-radius:4px}
.otc-table {border-collapse:collapse; font-size:12px; font-family:sans-serif}
.otc-table th, .otc-table td {border:1px solid #dde; padding:2px 6px; text-align:right}
.otc-table th {background:#eef}
.otc-breach td {background:#ffebee} .otc-warning td {background:#fff8e1}
</style>"""


class RiskDashboard:
    """The dashboard of one store (``db``: a URL, default ``OTCLAB_DB_URL``); ``poll`` seconds
    between looks for a new snapshot (default ``OTCLAB_DASHBOARD_POLL``, else 0.5: one indexed
    query of the newest id, so a new snapshot shows within a second)."""

    def __init__(self, db: str | None = None, poll: float | None = None):
        import ipywidgets as w

        from ..store.db import open_store

        self.store = open_store(db)
        self.poll = poll or float(os.environ.get("OTCLAB_DASHBOARD_POLL", "0.5"))
        self.snapshot: dict | None = None
        self.rows = pd.DataFrame()
        self.w = w
        self._holding = False        # True while a new snapshot resets the dropdowns: no re-render per change
        self.header = w.HTML()
        self.status = w.HTML()
        self.expo_by = w.Dropdown(options=[("underlying × structure", "us"), ("underlying × maturity", "um"),
                                           ("structure × maturity", "sm")], description="group")
        self.expo_table = w.HTML()
        self.expo_chart = w.Image(format="png", layout=w.Layout(align_self="flex-start"))
        self.pick_u = w.Dropdown(description="underlying")
        self.pick_s = w.Dropdown(description="structure")
        self.trades_table = w.HTML()
        self.pick_trade = w.Dropdown(description="trade")
        self.trade_detail = w.HTML()
        self.grid_scope = w.Dropdown(description="scope")
        self.heatmap = w.Image(format="png", layout=w.Layout(align_self="flex-start"))
        self.ladders = w.Image(format="png", layout=w.Layout(align_self="flex-start"))
        self.export = w.HTML()
        self.watch_table = w.HTML()
        self.watch_hist = w.Image(format="png", layout=w.Layout(align_self="flex-start"))
        self.calendar_table = w.HTML()
        self.explain_table = w.HTML()
        self.explain_chart = w.Image(format="png", layout=w.Layout(align_self="flex-start"))
        self.limits_table = w.HTML()
        for dd, fn in ((self.expo_by, self._exposures), (self.pick_u, self._trades), (self.pick_s, self._trades),
                       (self.pick_trade, self._trade), (self.grid_scope, self._grid)):
            dd.observe(lambda _c, f=fn: None if self._holding else f(), names="value")
        tabs = w.Tab(children=[
            w.VBox([self.expo_by, self.expo_table, self.expo_chart, w.HTML("<b>drill-down</b>"),
                    w.HBox([self.pick_u, self.pick_s]), self.trades_table, self.pick_trade, self.trade_detail]),
            w.VBox([self.grid_scope, w.HBox([self.heatmap, self.ladders]), self.export]),
            w.VBox([self.watch_hist, self.watch_table]),
            w.VBox([self.calendar_table]),
            w.VBox([self.explain_chart, self.explain_table]),
            w.VBox([self.limits_table]),
        ])
        for i, t in enumerate(("敞口 Exposures", "情景 Scenarios", "障碍监控 Barrier watch", "日历 Calendar",
                               "损益归因 P&L explain", "限额 Limits")):
            tabs.set_title(i, t)
        self.tabs = tabs
        self.widget = w.VBox([w.HTML(CSS + "<h2 style='font-family:sans-serif;margin:4px 0'>场外衍生品 风险看板 "
                                     "OTC risk</h2>"), self.header, self.status, tabs])
        self._task = None

    # ---- data ---------------------------------------------------------------------------------
    def latest_id(self) -> int | None:
        """The id of the newest refresh snapshot, else of the newest end-of-day one, else None."""
        from ..store import risk

        with self.store.connect() as conn:
            for kind in ("refresh", "eod"):
                sid = risk.latest_id(conn, kind)
                if sid is not None:
                    return sid
        return None

    def update(self, force: bool = False) -> bool:
        """Show the newest snapshot if it is not the one shown (one small query when it is); the
        stale badge either way. The header goes first so that a new snapshot shows at once."""
        from ..store import risk

        sid = self.latest_id()
        if sid is None:
            self.header.value = ('<div class="otc-header">no risk snapshot in the store yet: run '
                                 '`otclab risk run-once`</div>')
            return False
        changed = force or self.snapshot is None or sid != self.snapshot["id"]
        if changed:
            with self.store.connect() as conn:
                h = risk.header(conn, sid)
                rows = risk.rows(conn, sid)
            self.snapshot, self.rows = h, rows
            self._header()
            self.status.value = '<div class="otc-updating">updating the tabs…</div>'
            self._render_all()
        else:
            self._header()
        return changed

    # ---- parts -----------------------------------------------------------------------------------
    def _market_time(self) -> dt.datetime | None:
        t = self.snapshot.get("market_time")
        if t is None:
            return None
        return t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc)

    def stale(self, now: dt.datetime | None = None) -> bool:
        """Whether the market is older than two refresh intervals (end-of-day snapshots: a day)."""
        h = self.snapshot
        views = h.get("views") or {}
        t = self._market_time()
        if t is None:
            return True
        interval = float(views.get("interval_min") or 10.0) if h["kind"] == "refresh" else 24 * 60.0
        return (now or dt.datetime.now(dt.timezone.utc)) - t > dt.timedelta(minutes=2 * interval)

    def _header(self) -> None:
        h, t = self.snapshot, self.snapshot["totals"]
        cards = [("book value 估值", t.get("value")), ("cash delta", t.get("cash_delta")),
                 ("1% cash gamma", t.get("cash_gamma_1pct")), ("vega / vol pt", t.get("vega")),
                 ("theta / day", t.get("theta")), ("rho / 1%", t.get("rho"))]
        keys = ("value", "cash_delta", "cash_gamma_1pct", "vega", "theta", "rho")
        html_cards = "".join(f'<div class="otc-card otc-{k}"><div class="k">{label}</div>'
                             f'<div class="v">{_fmt(v)}</div></div>' for (label, v), k in zip(cards, keys))
        mt = self._market_time()
        badge = ('<span class="otc-stale">STALE 过期</span>' if self.stale()
                 else '<span class="otc-fresh">live</span>')
        meta = (f'<div class="otc-meta">snapshot <span class="otc-snapshot-id">{h["id"]}</span> ({h["kind"]}) · '
                f'valuation {h["valuation_date"]} · market {_cst(mt):%Y-%m-%d %H:%M} CST'
                f' ({html.escape(str(h["market_snapshot_id"]))})' if mt else
                f'<div class="otc-meta">snapshot <span class="otc-snapshot-id">{h["id"]}</span> ({h["kind"]}) · '
                f'valuation {h["valuation_date"]} · market {html.escape(str(h["market_snapshot_id"]))}')
        meta += (f' · computed {_cst(h["created_at"]):%H:%M:%S} in {h["wall_s"]:.1f} s · {h["trades"]} trades · '
                 f'paths {h["settings"].get("paths"):,} · {badge}</div>')
        failed = int(t.get("failed") or 0)
        if failed:
            # the totals leave these out: say so where the totals are
            bad = self.rows[self.rows["error"].notna()] if "error" in self.rows.columns else self.rows.iloc[0:0]
            items = "".join(f"<li>{html.escape(r.trade_id)}: {html.escape(str(r.error))[:200]}</li>"
                            for r in bad.head(5).itertuples())
            meta += (f'<div class="otc-failed">{failed} trade{"s" if failed > 1 else ""} could not be valued and '
                     f'are not in the totals<ul>{items}</ul></div>')
        self.header.value = f'<div class="otc-header">{html_cards}</div>{meta}'

    def _render_all(self) -> None:
        views = self.snapshot.get("views") or {}
        us = sorted(self.rows["underlying"].unique()) if len(self.rows) else []
        self._options(self.pick_u, ["(all)"] + us)
        self._options(self.pick_s, ["(all)"] + (sorted(self.rows["template"].unique()) if len(self.rows) else []))
        self._options(self.grid_scope, ["book"] + sorted((views.get("grid") or {}).get("by_underlying", {})))
        self._exposures()
        self._trades()
        self._grid()
        self._watch(views.get("watch") or [])
        self._calendar(views.get("calendar") or [])
        self._explain(views.get("explain"))
        self._limits(views.get("limits") or [])
        self.status.value = ""

    def _options(self, dd, options: list) -> None:
        """New choices for a dropdown, keeping what the trader picked while it is still there (a
        new snapshot must not throw them out of a drill-down)."""
        keep = dd.value
        self._holding = True
        try:
            dd.options = options
            dd.value = keep if keep in options else (options[0] if options else None)
        finally:
            self._holding = False

    def _exposures(self) -> None:
        views = (self.snapshot or {}).get("views") or {}
        ex = pd.DataFrame(views.get("exposures") or [])
        if ex.empty and len(self.rows):
            ex = self.rows.assign(bucket="all").groupby(["underlying", "template", "bucket"]).agg(
                trades=("trade_id", "count"), notional=("notional", "sum"), cash_delta=("cash_delta", "sum"),
                vega=("vega", "sum"), theta=("theta", "sum"), value=("value", "sum")).reset_index()
        if ex.empty:
            self.expo_table.value = _table(ex, "otc-exposures")
            return
        a, b = {"us": ("underlying", "template"), "um": ("underlying", "bucket"), "sm": ("template", "bucket")}[
            self.expo_by.value]
        piv = ex.pivot_table(index=a, columns=b, values="cash_delta", aggfunc="sum", fill_value=0.0)
        piv["total"] = piv.sum(axis=1)
        self.expo_table.value = ("<b>cash delta (CNY) by " + a + " × " + b + "</b>" +
                                 _table(piv.reset_index(), "otc-exposures"))
        by_u = ex.groupby("underlying")[["cash_delta", "vega"]].sum()
        _png_to(self.expo_chart, _bars(by_u, "cash delta and vega by underlying (CNY)"))

    def _trades(self) -> None:
        r = self.rows
        if r.empty:
            self.trades_table.value = ""
            return
        if self.pick_u.value not in (None, "(all)"):
            r = r[r["underlying"] == self.pick_u.value]
        if self.pick_s.value not in (None, "(all)"):
            r = r[r["template"] == self.pick_s.value]
        cols = ["trade_id", "template", "underlying", "direction", "notional", "value", "cash_delta", "delta_pct",
                "cash_gamma_1pct", "vega", "theta", "rho", "engine"]
        cols = [c for c in cols if c in r.columns]
        self.trades_table.value = f"<b>{len(r)} trades</b>" + _table(
            r[cols], "otc-trades", {"delta_pct": lambda v: _fmt(v, 2)}, max_rows=100)
        self._options(self.pick_trade, ["(choose a trade)"] + list(r["trade_id"]))
        self._trade()

    def _trade(self) -> None:
        tid = self.pick_trade.value
        if not tid or tid.startswith("("):
            self.trade_detail.value = ""
            return
        from ..workflows.trade_view import trade_view

        with self.store.connect() as conn:
            v = trade_view(conn, tid)
        row = self.rows[self.rows["trade_id"] == tid]
        terms = ", ".join(f"{k}={html.escape(str(x))}" for k, x in v["trade"]["terms"].items() if x is not None)
        ev = pd.DataFrame(v["events"])[["date", "type", "close", "level", "amount"]] if v["events"] else pd.DataFrame()
        greeks = row[[c for c in ("value", "stderr", "cash_delta", "delta_pct", "cash_gamma_1pct", "vega", "theta",
                                   "rho", "flagged") if c in row.columns]]
        self.trade_detail.value = (
            f'<div class="otc-trade-detail"><h4>{html.escape(tid)} · {v["trade"]["template"]}@'
            f'{v["trade"]["template_version"]} · {v["trade"]["direction"]} · {v["status"]}</h4>'
            f'<div>counterparty {html.escape(v["trade"]["counterparty"]["name"])} · terms: {terms}</div>'
            f'<div>state: {html.escape(str(v["state"]))}</div><b>Greeks (snapshot {self.snapshot["id"]})</b>'
            + _table(greeks, "otc-trade-greeks", {"delta_pct": lambda x: _fmt(x, 2)})
            + "<b>events</b>" + _table(ev, "otc-trade-events", {"close": lambda x: _fmt(x, 2),
                                                                 "level": lambda x: _fmt(x, 4)}) + "</div>")

    def _grid(self) -> None:
        from ..workflows.risk.views import grid_files

        g = ((self.snapshot or {}).get("views") or {}).get("grid") or {}
        if not g:
            _png_to(self.heatmap, b"")
            _png_to(self.ladders, b"")
            self.export.value = "<i>no scenario grid in this snapshot</i>"
            return
        scope = self.grid_scope.value or "book"
        m = g["book"] if scope == "book" else g["by_underlying"].get(scope, g["book"])
        frame = pd.DataFrame(m, index=g["spot_shifts"], columns=g["vol_shifts"])
        _png_to(self.heatmap, _heatmap(frame, f"ΔPV {scope} (CNY): spot shift × vol shift"))
        lad = g.get("ladders", {}).get(scope)
        _png_to(self.ladders, _ladders(lad, scope) if lad else b"")
        sid = g.get("from_snapshot", self.snapshot["id"])
        csv, xls = grid_files(g, self.snapshot)
        whose = (f'<div class="otc-grid-from">this refresh has no grid: the grid of snapshot {sid} '
                 f'(market {html.escape(str(g.get("from_market_time")))})</div>' if g.get("from_snapshot") else "")
        self.export.value = whose + (
            f'<a class="otc-export-csv" download="scenario-grid-{sid}.csv" '
            f'href="data:text/csv;base64,{base64.b64encode(csv).decode()}">export CSV</a> · '
            f'<a class="otc-export-xlsx" download="scenario-grid-{sid}.xlsx" '
            f'href="data:application/vnd.openxmlformats-officedocument.spreadsheetml.sheet;base64,'
            f'{base64.b64encode(xls).decode()}">export Excel</a> (snapshot {sid}: the book and every underlying)')

    def _watch(self, watch: list) -> None:
        df = pd.DataFrame(watch)
        if df.empty:
            self.watch_table.value = _table(df, "otc-watch")
            return
        cols = [c for c in ("trade_id", "template", "underlying", "knocked_in", "to_ki_pct", "to_ki_sigma", "to_ko_pct",
                            "to_ko_sigma", "ko_date", "days_to_next", "notional", "cash_delta", "cash_gamma_1pct")
                if c in df.columns]
        self.watch_table.value = _table(df[cols], "otc-watch", {
            "to_ki_pct": _pct, "to_ko_pct": _pct, "to_ki_sigma": lambda v: _fmt(v, 2),
            "to_ko_sigma": lambda v: _fmt(v, 2), "knocked_in": lambda v: "yes" if v else "",
            "days_to_next": lambda v: _fmt(v)}, max_rows=60)
        _png_to(self.watch_hist, _hist(df))

    def _calendar(self, cal: list) -> None:
        self.calendar_table.value = "<b>next 5 trading days (cash at today's spot, desk's view)</b>" + _table(
            pd.DataFrame(cal), "otc-calendar")

    def _explain(self, ex: dict | None) -> None:
        if not ex:
            self.explain_table.value = "<i>no end-of-day snapshot to explain against</i>"
            _png_to(self.explain_chart, b"")
            return
        df = pd.DataFrame(ex["by_underlying"])
        self.explain_table.value = (f'<b>P&amp;L since the end of day of {ex["previous_date"]} (snapshot '
                                    f'{ex["previous_snapshot_id"]}), CNY</b>' + _table(df, "otc-explain"))
        terms = ["delta", "gamma", "vega", "theta", "rho", "new_trades", "unexplained"]
        _png_to(self.explain_chart, _bars(df.set_index("underlying")[[t for t in terms if t in df.columns]],
                                          "P&L explain by underlying (CNY)", stacked=True))

    def _limits(self, lim: list) -> None:
        df = pd.DataFrame(lim)
        if df.empty:
            self.limits_table.value = _table(df, "otc-limits")
            return
        rows = []
        for _, r in df.iterrows():
            conc = r["measure"] == "notional_concentration"
            rows.append(f'<tr class="otc-{r["status"]}"><td>{html.escape(r["scope"])}</td><td>{r["measure"]}</td>'
                        f'<td>{_pct(r["value"]) if conc else _fmt(r["value"])}</td>'
                        f'<td>{_pct(r["limit"]) if conc else _fmt(r["limit"])}</td><td>{_pct(r["utilisation"], 0)}</td>'
                        f'<td class="otc-limit-status">{r["status"].upper()}</td></tr>')
        self.limits_table.value = ('<table class="otc-limits otc-table"><thead><tr><th>scope</th><th>measure</th>'
                                   '<th>value</th><th>limit</th><th>utilisation</th><th>status</th></tr></thead><tbody>'
                                   + "".join(rows) + "</tbody></table>")

    # ---- live ------------------------------------------------------------------------------------
    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.poll)
            try:
                self.update()
            except Exception as e:       # a page keeps showing the last snapshot and says why
                self.status.value = f'<div class="otc-error">could not read the store: {html.escape(str(e))}</div>'

    def show(self):
        """Display the dashboard and keep it current (an asyncio task in the kernel)."""
        from IPython.display import display

        self.update(force=True)
        display(self.widget)
        self._task = asyncio.ensure_future(self._loop())
        return self


# ---- plots (matplotlib to PNG: works in Voila without extensions) ----------------------------------

def _mpl():
    import logging

    import matplotlib

    # WenQuanYi Zen Hei has one weight (medium); matplotlib says so on every plot otherwise
    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["font.sans-serif"] = FONTS
    plt.rcParams["axes.unicode_minus"] = False
    return plt


def _png_to(image, png: bytes) -> None:
    """Show ``png`` in the image widget, or hide the widget (no broken-image icon) when empty."""
    image.value = png
    image.layout.display = None if png else "none"


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    _mpl().close(fig)
    return buf.getvalue()


def _bars(df: pd.DataFrame, title: str, stacked: bool = False) -> bytes:
    plt = _mpl()
    fig, ax = plt.subplots(figsize=(7.5, 3.0))
    df.plot.bar(ax=ax, stacked=stacked)
    ax.set_title(title)
    ax.axhline(0, color="k", lw=0.5)
    return _png(fig)


def _heatmap(frame: pd.DataFrame, title: str) -> bytes:
    plt = _mpl()
    fig, ax = plt.subplots(figsize=(6.0, 4.2))
    v = frame.values
    lim = max(abs(v).max(), 1.0)
    im = ax.imshow(v, aspect="auto", cmap="RdYlGn", vmin=-lim, vmax=lim, origin="lower")
    ax.set_yticks(range(len(frame.index)))
    ax.set_yticklabels([f"{x:+.0%}" for x in frame.index], fontsize=7)
    ax.set_xticks(range(len(frame.columns)))
    ax.set_xticklabels([f"{x * 100:+.0f}" for x in frame.columns], fontsize=7)
    ax.set_ylabel("spot shift 现价变动")
    ax.set_xlabel("vol shift (vol points) 波动率变动")
    ax.set_title(title)
    fig.colorbar(im, ax=ax, shrink=0.8)
    return _png(fig)


def _ladders(lad: dict, scope: str) -> bytes:
    plt = _mpl()
    fig, ax = plt.subplots(figsize=(5.0, 4.2))
    xs = lad.get("spot") or [100 * x for x in lad["spot_shift"]]
    ax.plot(xs, lad["cash_delta"], label="cash delta")
    ax2 = ax.twinx()
    ax2.plot(xs, lad["cash_gamma_1pct"], color="tab:red", label="1% cash gamma")
    ax.set_xlabel(f"{scope} spot" if "spot" in lad else "every spot moved (%) 现价变动")
    ax.set_ylabel("cash delta (CNY)")
    ax2.set_ylabel("1% cash gamma (CNY)")
    ax.set_title(f"spot ladder {scope}")
    fig.legend(loc="upper left", fontsize=7)
    return _png(fig)


def _hist(df: pd.DataFrame) -> bytes:
    plt = _mpl()
    fig, ax = plt.subplots(figsize=(7.5, 2.8))
    d = df.dropna(subset=["to_ki_pct"]) if "to_ki_pct" in df.columns else df.iloc[0:0]
    if len(d):
        ax.hist(100 * d["to_ki_pct"], bins=30, weights=d["notional"] / 1e6)
    ax.set_xlabel("distance to knock-in (% of spot) 距敲入")
    ax.set_ylabel("notional (CNY million)")
    ax.set_title("where the book's knock-in levels cluster")
    return _png(fig)
