"""The quote-review app's view logic (``dashboards/quotes.py`` is the thin Panel page over it).

Everything here works on the plain dicts of ``otclab.workflows.quotes.service`` and on pandas; Panel
is imported only by ``dashboards/quotes.py``. Three parts:

- the blotter: service rows -> a DataFrame, newest quote first, with a countdown to the quote's
  validity (``mm:ss``; ``expired`` once it has run out, ``–`` for a closed quote) and a colour per
  state; ``Blotter`` keeps the frame shown and says what changed since the last look, as cell
  patches (a state moved, a price changed, a second ticked off a countdown) or, when new quotes
  arrived, the new frame with the selected quote's new row number, so that the page can update the
  table in place and keep the trader's selection;
- the detail pane: ``detail_model`` puts the raw chat beside the parsed fields and the model price
  (with engine and standard error), the reply text as it will be sent and the quote's history;
- the actions: ``QuoteDesk`` calls the service's ``edit_quote`` / ``approve`` / ``reject`` /
  ``cancel`` / ``accept`` as the logged-in user and turns each answer, or the ``QuoteError`` a trader can cause
  (an expired quote, the same user approving twice above the four-eyes threshold, a value not
  allowed), into one ``Outcome`` with a message fit for a notification, never a traceback.

Times on screen are China time (UTC+8); the service's times are aware UTC.
"""
from __future__ import annotations

import datetime as dt
import html
import math
import os
import re
from dataclasses import dataclass, field

import pandas as pd

CST = dt.timezone(dt.timedelta(hours=8))

# states in which a quote still waits for a trader or the client: its countdown runs (received and
# parsed last a moment: the service prices at once)
LIVE = {"received", "parsed", "priced", "pending_approval", "approved", "sent"}
# background colour of a blotter row per state (light, so text stays readable)
STATE_COLOURS = {
    "received": "#eceff1", "parsed": "#eceff1", "priced": "#e3f2fd", "pending_approval": "#fff3cd",
    "approved": "#e8f5e9", "sent": "#c8e6c9", "booked": "#b2dfdb",
    "rejected": "#ffebee", "expired": "#e0e0e0", "superseded": "#f3e5f5", "cancelled": "#f5f5f5",
    "failed": "#ffcdd2",
}
STATE_LABELS = {
    "received": "received 收到", "parsed": "parsed 已解析", "priced": "priced 已定价",
    "pending_approval": "pending 待审批", "approved": "approved 已批准", "sent": "sent 已发送",
    "booked": "booked 已成交", "rejected": "rejected 已拒绝",
    "expired": "expired 已过期", "superseded": "superseded 已修改", "cancelled": "cancelled 已取消",
    "failed": "failed 失败",
}
# column widths in pixels (titles wrap to two lines: English above Chinese)
WIDTHS = {"quote_id": 118, "time": 84, "state": 150, "expires_in": 90, "client": 190, "underlying": 118,
          "structure": 108, "tenor": 84, "notional": 110, "solve_for": 96, "price": 92, "engine": 92, "std_err": 92,
          "maker": 92, "checkers": 104, "four_eyes": 96}
# what the blotter shows, in this order (quote_id first: the page maps rows back by it)
COLUMNS = ["quote_id", "time", "state", "expires_in", "client", "underlying", "structure", "tenor", "notional",
           "solve_for", "price", "engine", "std_err", "maker", "checkers", "four_eyes"]
TITLES = {"quote_id": "#", "time": "time 时间", "state": "state 状态", "expires_in": "left 剩余",
          "client": "client 客户", "underlying": "underlying 标的", "structure": "structure 结构",
          "tenor": "tenor 期限", "notional": "notional 名本", "solve_for": "asks 求解", "price": "quote 报价",
          "engine": "engine 引擎", "std_err": "s.e. 标准误", "maker": "maker 经办", "checkers": "checker 复核",
          "four_eyes": "4-eyes 双人"}


# ---- formatting -------------------------------------------------------------------------------
def aware(t) -> dt.datetime | None:
    """A datetime (or ISO string) as an aware UTC time; a naive one is taken as UTC (the store's)."""
    if t is None or (isinstance(t, float) and math.isnan(t)):
        return None
    if isinstance(t, str):
        t = dt.datetime.fromisoformat(t)
    if isinstance(t, pd.Timestamp):
        t = t.to_pydatetime()
    return t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc)


def cst_text(t, fmt: str = "%H:%M:%S") -> str:
    """A time in China time (``–`` when unknown)."""
    t = aware(t)
    return "–" if t is None else t.astimezone(CST).strftime(fmt)


def countdown(valid_until, state: str, now: dt.datetime) -> tuple[str, int | None]:
    """The countdown to a quote's validity as ``(text, whole seconds left)``: ``mm:ss`` while it
    runs, ``expired`` (0 s) once ``valid_until`` has passed or the quote is in state ``expired``,
    ``–`` (None) for a quote that is closed otherwise or has no validity. Seconds are rounded up,
    so ``00:00`` never shows: the text turns to ``expired`` the moment ``valid_until`` passes."""
    if state == "expired":
        return "expired", 0
    t = aware(valid_until)
    if state not in LIVE or t is None:
        return "–", None
    left = math.ceil((t - now).total_seconds())
    if left <= 0:
        return "expired", 0
    m, s = divmod(left, 60)
    return f"{m:02d}:{s:02d}", left


def num(v, digits: int = 0) -> str:
    """A number with thousands separators (``–`` for none or not finite)."""
    if v is None or isinstance(v, str) or not math.isfinite(float(v)):
        return "–" if v is None or not isinstance(v, str) else v
    v = float(v)
    if round(v, digits) == 0:
        v = 0.0
    return f"{v:,.{digits}f}"


def pct(v, digits: int = 2) -> str:
    """A fraction as a percentage (0.1523 -> ``15.23%``)."""
    if v is None or not math.isfinite(float(v)):
        return "–"
    return f"{100 * float(v):.{digits}f}%"


def notional_text(v) -> str:
    """Notional in CNY the way the desk says it: 5e7 -> ``5,000万``, 1.5e8 -> ``1.5亿``."""
    if v is None or not math.isfinite(float(v)):
        return "–"
    v = float(v)
    if v >= 1e8 and v % 1e7 == 0:
        return f"{v / 1e8:g}亿"
    if v >= 1e4:
        return f"{v / 1e4:,.0f}万" if v % 1e4 == 0 else f"{v / 1e4:,.1f}万"
    return num(v)


def tenor_text(row: dict) -> str:
    t = row.get("tenor")
    if t is None:
        t = row.get("tenor_months")
    if t is None:
        return "–"
    if isinstance(t, (int, float)):
        return f"{t:g}M"
    return str(t)


def price_text(row: dict) -> str:
    """The quote's answer from a service row: the fair coupon or participation solved for (as a
    percentage), else the value as a percentage of notional (price, vol and strike requests are
    valued at the stated terms); ``failed`` when pricing failed, ``–`` while not priced."""
    ask = row.get("solve_for")
    if ask == "coupon" and row.get("fair_coupon") is not None:
        return pct(row["fair_coupon"])
    if ask == "participation" and row.get("participation") is not None:
        return pct(row["participation"])
    if row.get("value_pct") is not None:
        return pct(row["value_pct"])
    return "failed" if row.get("error") else "–"


def std_err_text(row: dict) -> str:
    """The Monte Carlo standard error of the value in CNY (``–``: a closed form or the PDE, no
    sampling error)."""
    se = row.get("std_err")
    return "–" if se is None else num(se, 0)


def _users(v) -> str:
    if not v:
        return ""
    if isinstance(v, str):
        return v
    return ", ".join(str(u) for u in v)


def state_label(state: str) -> str:
    return STATE_LABELS.get(state, state)


def state_of(label: str) -> str:
    """The state a blotter cell (``state_label``) shows."""
    return label.split(" ", 1)[0]


def row_colour(state_text: str) -> str:
    """The CSS background of a blotter row from its state cell."""
    return STATE_COLOURS.get(state_of(state_text), "#ffffff")


# ---- the blotter --------------------------------------------------------------------------------
def blotter_row(row: dict, now: dt.datetime) -> dict:
    """One blotter line (display strings) from one service row of ``list_quotes``."""
    left_text, _ = countdown(row.get("valid_until"), row.get("state", ""), now)
    return {
        "quote_id": row["quote_id"],
        "time": cst_text(row.get("received_at") or row.get("created_at")),
        "state": state_label(row.get("state", "")),
        "expires_in": left_text,
        "client": row.get("counterparty_name") or row.get("sender") or "–",
        "underlying": row.get("underlying") or "–",
        "structure": row.get("structure") or "–",
        "tenor": tenor_text(row),
        "notional": notional_text(row.get("notional")),
        "solve_for": row.get("solve_for") or "–",
        "price": price_text(row),
        "engine": row.get("engine") or "–",
        "std_err": std_err_text(row),
        "maker": row.get("maker") or "",
        "checkers": _users(row.get("checkers")),
        "four_eyes": "yes 需复核" if row.get("needs_second_approval") else "",
    }


def blotter_frame(rows: list[dict], now: dt.datetime) -> pd.DataFrame:
    """The blotter: one line per quote, newest request first: by the time the client's message
    arrived (not when its quote was priced: workers price in parallel, so a later message can be
    priced first), then the latest revision above the one it superseded, then quote id."""
    def key(r):
        t = aware(r.get("received_at") or r.get("created_at")) or dt.datetime.min.replace(tzinfo=dt.timezone.utc)
        return (t, r.get("revision") or 0, _sortable_id(r["quote_id"]))
    ordered = sorted(rows, key=key, reverse=True)
    return pd.DataFrame([blotter_row(r, now) for r in ordered], columns=COLUMNS)


def _sortable_id(q):
    return (0, q, "") if isinstance(q, (int, float)) else (1, 0, str(q))


@dataclass
class Change:
    """What the table on the page must do: ``kind`` "none", "patch" (``patches``: column ->
    [(row number, new text)]) or "replace" (``frame``, and ``selection``: the selected quote's
    new row number, if it is still shown)."""
    kind: str
    patches: dict = field(default_factory=dict)
    frame: pd.DataFrame | None = None
    selection: list[int] = field(default_factory=list)


class Blotter:
    """The blotter shown on one page: the service rows it was built from and their frame."""

    def __init__(self):
        self.rows: dict = {}
        self.frame = pd.DataFrame(columns=COLUMNS)

    def quote_at(self, i: int):
        """The quote id of row number ``i`` of the frame shown."""
        return self.frame["quote_id"].iloc[i]

    def index_of(self, quote_id) -> int | None:
        hits = [i for i, q in enumerate(self.frame["quote_id"]) if q == quote_id]
        return hits[0] if hits else None

    def update(self, rows: list[dict], now: dt.datetime, selected=None) -> Change:
        """Take the service's rows: cell patches when the same quotes are shown in the same
        order, else a new frame (new quotes go on top) with ``selected``'s new row number."""
        new = blotter_frame(rows, now)
        self.rows = {r["quote_id"]: r for r in rows}
        old = self.frame
        if list(new["quote_id"]) != list(old["quote_id"]):
            self.frame = new
            i = self.index_of(selected) if selected is not None else None
            return Change("replace", frame=new, selection=[] if i is None else [i])
        patches = _diff(old, new)
        self.frame = new
        return Change("patch", patches=patches) if patches else Change("none")

    def tick(self, now: dt.datetime) -> Change:
        """The countdown cells whose text changed since the last look (one second ticks off)."""
        col = []
        for i, q in enumerate(self.frame["quote_id"]):
            r = self.rows.get(q)
            if r is None:
                continue
            text, _ = countdown(r.get("valid_until"), r.get("state", ""), now)
            if text != self.frame["expires_in"].iat[i]:
                col.append((i, text))
        if not col:
            return Change("none")
        for i, text in col:
            self.frame.iat[i, self.frame.columns.get_loc("expires_in")] = text
        return Change("patch", patches={"expires_in": col})


def _diff(old: pd.DataFrame, new: pd.DataFrame) -> dict:
    """Column -> [(row number, new value)] for every cell of ``new`` that differs from ``old``."""
    out: dict = {}
    for c in COLUMNS:
        a, b = old[c].tolist(), new[c].tolist()
        cells = [(i, y) for i, (x, y) in enumerate(zip(a, b)) if x != y]
        if cells:
            out[c] = cells
    return out


def row_styles(frame: pd.DataFrame) -> pd.DataFrame:
    """CSS per cell of the blotter (for a pandas Styler): each row's background by its state."""
    colours = [f"background-color: {row_colour(s)}" for s in frame["state"]]
    return pd.DataFrame({c: colours for c in frame.columns}, index=frame.index)


# ---- the detail pane -----------------------------------------------------------------------------
FIELD_LABELS = {
    "underlying": "underlying 标的", "structure": "structure 结构", "option_type": "call/put 看涨看跌",
    "tenor_months": "tenor (months) 期限(月)", "strike": "strike 行权价", "ko_barrier": "KO 敲出",
    "ki_barrier": "KI 敲入", "barrier": "barrier 障碍", "coupon_barrier": "coupon barrier 派息线",
    "coupon": "coupon 票息", "participation": "participation 参与率", "rebate": "rebate 补偿",
    "notional": "notional 名本 (CNY)", "lockup_months": "lock-up (months) 锁定期", "ko_step_down": "step-down 降敲",
    "ko_frequency": "KO frequency 敲出观察", "solve_for": "solve for 求解",
}


def field_text(value) -> str:
    """A parsed field as the trader edits it: numbers plainly (1.03, 50000000), words as they are."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.10g}"
    if isinstance(value, (list, dict)):
        import json
        return json.dumps(value, ensure_ascii=False)
    return str(value)


_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_UNITS = {"w": 1e4, "万": 1e4, "kw": 1e7, "千万": 1e7, "亿": 1e8, "y": None}


def parse_field_value(field_name: str, text: str, current):
    """The value a trader typed for a field: a number when the field holds a number (``103%``
    -> 1.03, ``5,000万`` / ``5000w`` -> 5e7; a whole number stays an int where the field had one),
    else the text stripped. ``ValueError`` names the field and what is allowed."""
    t = text.strip()
    if not t:
        raise ValueError(f"{field_name}: a value is required")
    numeric = isinstance(current, (int, float)) and not isinstance(current, bool)
    if not numeric:
        return t
    s = t.replace(",", "").replace("，", "").replace(" ", "").lower()
    scale, per = 1.0, 1.0
    if s.endswith("%"):
        s, per = s[:-1], 100.0           # divided, so that 70% is 0.7 exactly (70 * 0.01 is not)
    else:
        for unit in ("千万", "kw", "亿", "万", "w"):
            if s.endswith(unit):
                s, scale = s[: -len(unit)], _UNITS[unit]
                break
    if not _NUMBER.match(s):
        raise ValueError(f"{field_name}: {text!r} is not a number (e.g. 1.03, 103%, 5000万)")
    v = float(s) * scale / per
    if not math.isfinite(v):
        raise ValueError(f"{field_name}: {text!r} is not a finite number")
    if isinstance(current, int) and float(v).is_integer():
        return int(v)
    return v


@dataclass
class Detail:
    """What the detail pane shows for one quote."""
    quote_id: object
    state: str
    header: str
    chat: str
    sender: str
    received: str
    fields: list            # [(field, label, text, value)]
    price_rows: list        # [(label, text)]
    reply: str
    reply_to: str           # where the reply goes and whom it @-mentions (the send adds the mention)
    history: list           # [(time, from, to, by, details)]
    next_step: str          # what the desk does next with it (the buttons stay enabled: the service
                            # decides, and a refusal says why)
    four_eyes: str
    expires_in: str
    trade_id: str | None = None


def detail_model(q: dict, now: dt.datetime) -> Detail:
    """The detail pane of one quote from ``get_quote``'s dict."""
    state = q.get("state", "")
    left, secs = countdown(q.get("valid_until"), state, now)
    p = q.get("pricing") or {}
    ask = q.get("solve_for")
    rows = [("answer 报价", price_text(q)), ("asks for 求解", ask or "price")]
    if q.get("value") is not None:
        rows.append(("value 估值 (CNY)", num(q["value"], 2)))
    if q.get("value_pct") is not None:
        rows.append(("value / notional 占名本", pct(q["value_pct"], 3)))
    rows.append(("std. error 标准误 (CNY)", std_err_text(q)))
    rows.append(("engine 引擎", str(q.get("engine") or "–") + (f" ({p['device']})" if p.get("device") else "")))
    if p.get("vol") is not None:
        rows.append(("model vol 波动率", pct(p["vol"], 2)))
    if p.get("rate") is not None:
        rows.append(("rate 利率", pct(p["rate"], 2)))
    if p.get("spot") is not None:
        rows.append(("spot 期初价", num(p["spot"], 2)))
    if q.get("template"):
        rows.append(("template 模板", f"{q['template']} (version {q.get('template_version') or '?'})"))
    if q.get("market_snapshot_id") is not None:
        rows.append(("market snapshot 行情", str(q["market_snapshot_id"])))
    if q.get("error"):
        rows.append(("error 错误", str(q["error"])))
    fields = [(k, FIELD_LABELS.get(k, k), field_text(v), v) for k, v in (q.get("fields") or {}).items()]
    history = [(cst_text(e.get("at"), "%H:%M:%S"), e.get("from_state") or "", e.get("to_state") or "",
                e.get("by") or "", _details_text(e.get("details"))) for e in (q.get("history") or q.get("events") or [])]
    maker = q.get("maker")
    if q.get("needs_second_approval"):
        four = (f"four-eyes 双人复核: the notional is above the threshold; maker {maker}, a second trader "
                f"(not {maker}) must approve" if maker else
                "four-eyes 双人复核: the notional is above the threshold; two different traders must approve "
                "(the first to approve is the maker)")
    else:
        four = ""
    return Detail(
        quote_id=q["quote_id"], state=state,
        header=f"Quote {q['quote_id']} · {state_label(state)}" + (f" · {left}" if left != "–" else ""),
        chat=q.get("raw_text") or q.get("message_text") or q.get("text") or "",
        sender=str(q.get("counterparty_name") or "") + (f" ({q['sender']})" if q.get("sender") else ""),
        received=cst_text(q.get("received_at") or q.get("created_at"), "%Y-%m-%d %H:%M:%S"),
        fields=fields, price_rows=rows, reply=q.get("reply_preview") or "", reply_to=_reply_to(q),
        history=history,
        next_step=_next_step(state, secs),
        four_eyes=four, expires_in=left, trade_id=_trade_id(q),
    )


def _reply_to(q: dict) -> str:
    where = f"group {q['chat_id']}" if q.get("chat_id") else "the client's chat"
    who = f", @-mentioning {q['sender']}" if q.get("sender") else ""
    return f"to {where}{who}"


def _trade_id(q: dict) -> str | None:
    """The trade a booked quote became (its ``booked`` event names it)."""
    for e in reversed(q.get("history") or []):
        if e.get("to_state") == "booked":
            return (e.get("details") or {}).get("trade_id")
    return None


def _next_step(state: str, secs: int | None) -> str:
    if secs == 0:
        return "expired: it can no longer be approved or accepted; the client asks again for a new quote"
    return {"priced": "approve or reject", "pending_approval": "approve or reject",
            "approved": "the reply is on its way to the chat; book it when the client accepts",
            "sent": "book it when the client accepts (Client accepted)",
            "superseded": "none: an edit replaced it (the newer revision is in the blotter)",
            "failed": "none: it failed (see the history); the client may ask again"}.get(state, "")


def _details_text(d) -> str:
    if not d:
        return ""
    if isinstance(d, str):
        return d
    if isinstance(d, dict):
        # long values (the reply text, the parsed fields) are shown in their own panes
        return ", ".join(f"{k}={_short(v)}" for k, v in d.items())
    return str(d)


def _short(v, n: int = 48) -> str:
    t = v if isinstance(v, str) else field_text(v)
    return t if len(t) <= n else t[: n - 1] + "…"


def chat_html(text: str) -> str:
    """The raw chat message, escaped, line breaks kept."""
    return '<div class="q-chat">' + html.escape(text).replace("\n", "<br>") + "</div>"


def table_html(rows: list, cls: str, head: tuple | None = None) -> str:
    """A small two-or-more column HTML table, escaped, with a class the page and tests find it by."""
    h = "<tr>" + "".join(f"<th>{html.escape(str(c))}</th>" for c in head) + "</tr>" if head else ""
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows)
    return f'<table class="{cls} q-table">{h}{body}</table>'


# ---- actions --------------------------------------------------------------------------------------
@dataclass
class Outcome:
    """The answer to one trader action: ``ok``, a one-line ``message`` for the notification,
    the quote after it (``get_quote``'s dict) and, for an acceptance, the booked ``trade_id``."""
    ok: bool
    message: str
    quote: dict | None = None
    trade_id: str | None = None


# fields of the service's errors that the message itself already explains
_SELF_EXPLAINED = {"user", "quote_id", "state", "reason", "request"}


#: The actions that decide a quote's fate (behind the hub they need the quote-approve scope).
DECISIONS = ("approval", "rejection", "withdrawal", "acceptance")


def refusal(quote_id, action: str, err) -> str:
    """One line for a refused action: ``quote Q1: approval refused: <why>``; the error's field
    is named when it is a quote field (``ki_barrier: must be ...``), not when it is the user,
    the quote id or its state, which the sentence already says."""
    msg = getattr(err, "message", None) or str(err)
    fld = getattr(err, "field", None)
    if fld and fld not in _SELF_EXPLAINED and not msg.startswith(fld):
        msg = f"{fld}: {msg}"
    return f"quote {quote_id}: {action} refused: {msg}"


def store_url(argv: list[str] | None = None) -> str:
    """The store the app reads: ``--store URL`` after ``panel serve ... --args``, else
    ``OTCLAB_STORE_URL``, else the default store (``OTCLAB_DB_URL`` or the SQLite file in the data folder)."""
    from ..store.db import default_url

    argv = list(argv or [])
    for i, a in enumerate(argv):
        if a == "--store" and i + 1 < len(argv):
            return argv[i + 1]
        if a.startswith("--store="):
            return a.split("=", 1)[1]
    return os.environ.get("OTCLAB_STORE_URL") or default_url()


class QuoteDesk:
    """The service as one logged-in trader uses it: every action names ``user`` (the login the
    app was given, never a name typed into a box) and answers an ``Outcome``."""

    def __init__(self, store, user: str | None, service=None, identity=None):
        if service is None:
            from ..workflows.quotes import service
        self.store, self.user, self.service = store, user, service
        # behind the hub: the user's ``otclab.access.Identity``; every decision then needs the
        # quote-approve scope (served with --basic-auth, the credentials file lists the traders)
        self.identity = identity

    # reading
    def token(self):
        """The store's change marker for the blotter: the newest quote event's id and the number
        of quotes. Every new quote and every transition appends a ``quote_events`` row, so the page
        reads the quotes again only when this moved (one primary-key lookup and one count a second)."""
        from sqlalchemy import func, select

        from ..store.tables import quote_events, quotes

        with self.store.connect() as conn:
            return (conn.execute(select(func.max(quote_events.c.id))).scalar(),
                    conn.execute(select(func.count()).select_from(quotes)).scalar())

    def rows(self, limit: int = 500) -> list[dict]:
        return self.service.list_quotes(self.store, limit=limit)

    def quote(self, quote_id) -> dict:
        return self.service.get_quote(self.store, quote_id)

    # acting
    def _act(self, quote_id, action: str, fn, *args) -> tuple[Outcome | None, object]:
        """Run one service call as the logged-in user; a user error becomes a refusal that says
        which quote, which action and why (the service's own words)."""
        from ..core.errors import OtcError

        if not self.user:
            return Outcome(False, f"quote {quote_id}: {action} refused: nobody is logged in (serve the app with "
                                  "--basic-auth or OAuth: every decision names the logged-in trader)"), None
        try:
            if self.identity is not None and action in DECISIONS:
                from ..access import QUOTE_APPROVE

                self.identity.require(QUOTE_APPROVE, f"decide on quote {quote_id}")
            return None, fn(*args)
        except OtcError as e:
            return Outcome(False, refusal(quote_id, action, e)), None

    def edit(self, quote_id, field_name: str, text: str, current) -> Outcome:
        """Correct one parsed field (the service stores the correction and reprices)."""
        try:
            value = parse_field_value(field_name, text, current)
        except ValueError as e:
            return Outcome(False, f"quote {quote_id}: edit refused: {e}")
        if value == current:
            return Outcome(True, f"{field_name} unchanged")
        bad, q = self._act(quote_id, f"edit of {field_name}", self.service.edit_quote, self.store,
                           quote_id, field_name, value, self.user)
        if bad:
            return bad
        price = price_text(q)
        new = q.get("quote_id")
        as_new = f" as quote {new}" if new is not None and new != quote_id else ""
        return Outcome(True, f"quote {quote_id}: {field_name} = {field_text(value)} by {self.user}, repriced"
                             f"{as_new}: {price}", q)

    def approve(self, quote_id) -> Outcome:
        bad, q = self._act(quote_id, "approval", self.service.approve, self.store, quote_id, self.user)
        if bad:
            return bad
        if q.get("state") == "pending_approval":
            return Outcome(True, f"quote {quote_id}: approved by {self.user}; above the four-eyes threshold a "
                                 f"second trader (not {self.user}) must approve before it is sent", q)
        return Outcome(True, f"quote {quote_id}: approved by {self.user} ({state_label(q.get('state', ''))}); "
                             "the reply goes to the chat", q)

    def reject(self, quote_id, reason: str) -> Outcome:
        if not (reason or "").strip():
            return Outcome(False, f"quote {quote_id}: rejection refused: a reason is required")
        bad, q = self._act(quote_id, "rejection", self.service.reject, self.store, quote_id, self.user,
                           reason.strip())
        if bad:
            return bad
        return Outcome(True, f"quote {quote_id}: rejected by {self.user} ({reason.strip()})", q)

    def cancel(self, quote_id, reason: str) -> Outcome:
        """Withdraw a quote the desk no longer stands by (pending, approved or sent; not booked)."""
        if not (reason or "").strip():
            return Outcome(False, f"quote {quote_id}: withdrawal refused: a reason is required")
        bad, q = self._act(quote_id, "withdrawal", self.service.cancel, self.store, quote_id, self.user,
                           reason.strip())
        if bad:
            return bad
        return Outcome(True, f"quote {quote_id}: withdrawn by {self.user} ({reason.strip()})", q)

    def accept(self, quote_id) -> Outcome:
        bad, trade_id = self._act(quote_id, "acceptance", self.service.accept, self.store, quote_id,
                                  self.user)
        if bad:
            return bad
        return Outcome(True, f"quote {quote_id}: client accepted, booked as trade {trade_id} by {self.user}",
                       None, str(trade_id))
