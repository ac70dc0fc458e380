"""The Panel page of the quote-review app (``panel serve dashboards/quotes.py``); the logic it
shows lives in ``otclab.dashboards.quotes`` and the decisions in the quote service.

One ``QuoteReviewPage`` per browser session: a live blotter (Tabulator, newest quote first, a row
colour per state, a countdown ticking every second) updated in place from a once-a-second look at
the store (a cheap change marker; the quotes are read again only when it moved); the selected
quote's raw chat beside its parsed fields (each editable: a new value reprices through the
service) and the model price; the reply text as it will be sent; Approve, Reject (with a reason),
Withdraw (a quote already approved or sent, with a reason) and Client accepted, which name the logged-in trader (``pn.state.user``). A refusal (an expired
quote, the same trader approving twice above the four-eyes threshold, a value not allowed) shows
as a notification and in the message bar, never as a traceback.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import html
import logging

import panel as pn

from . import quotes as v
from .outcome import show_outcome

log = logging.getLogger("otclab.dashboards.quotes")

CSS = """
.q-chat {font-size:15px; line-height:1.5; padding:8px 10px; background:#f7f7fb; border-left:4px solid #5c6bc0;
         white-space:normal; font-family:"WenQuanYi Zen Hei","Noto Sans CJK SC",sans-serif}
.q-reply {font-size:14px; line-height:1.5; padding:8px 10px; background:#f1f8e9; border-left:4px solid #7cb342;
          white-space:pre-wrap; font-family:"WenQuanYi Zen Hei","Noto Sans CJK SC",sans-serif}
.q-table {border-collapse:collapse; font-size:13px} .q-table td, .q-table th {border:1px solid #dde; padding:2px 8px}
.q-table th {background:#eef; text-align:left}
.q-meta {font-size:12px; color:#556}
.q-head {font-size:16px; font-weight:600}
.q-four-eyes {color:#8d6e00; font-weight:600}
"""


# inside the table's shadow root: two-line bilingual titles; the selected row framed (its cells keep
# the state colour, which would otherwise hide Tabulator's selection colour)
TABLE_CSS = """
.tabulator-col-title {white-space: normal !important; text-overflow: clip !important; line-height: 1.2;
                      font-size: 13px}
.tabulator-row.tabulator-selected .tabulator-cell {border-top: 2px solid #1a237e; border-bottom: 2px solid #1a237e;
                                                   font-weight: 600}
.tabulator-cell {white-space: nowrap; overflow: hidden; text-overflow: ellipsis}
"""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class QuoteReviewPage:
    """The page of one session: ``store`` (an open Store), ``user`` (the login, None when the app
    is served without authentication: it then shows quotes but refuses every decision),
    ``poll_s`` seconds between looks at the store; ``identity`` (behind the hub, the user's
    ``otclab.access.Identity``: decisions then need the quote-approve scope)."""

    def __init__(self, store, user: str | None, poll_s: float = 1.0, service=None, identity=None):
        pn.extension("tabulator", notifications=True, raw_css=[CSS])
        self.desk = v.QuoteDesk(store, user, service, identity)
        self.user = user
        self.poll_s = poll_s
        self.blotter = v.Blotter()
        self.selected = None          # the quote id shown in the detail pane
        self.quote: dict | None = None
        self.token = None
        self._busy = False            # one look at the store at a time
        self._acting = False          # a trader's action is running: the periodic look waits
        self._rendering = False       # True while the page sets field inputs itself: no edit then
        self.table = pn.widgets.Tabulator(
            self.blotter.frame, show_index=False, selectable=1, disabled=True, titles=v.TITLES,
            layout="fit_data_table", max_height=380, sizing_mode="stretch_width", css_classes=["q-blotter"],
            pagination=None, header_align="left", widths=v.WIDTHS, stylesheets=[TABLE_CSS])
        self.table.style.apply(v.row_styles, axis=None)
        self.table.param.watch(self._on_select, "selection")
        self.message = pn.pane.Alert("", alert_type="light", visible=False, css_classes=["q-message"],
                                     sizing_mode="stretch_width")
        self.head = pn.pane.HTML("", css_classes=["q-detail-head"], sizing_mode="stretch_width")
        self.chat = pn.pane.HTML("", css_classes=["q-chat-pane"], sizing_mode="stretch_width")
        self.fields = pn.Column(css_classes=["q-fields"], sizing_mode="stretch_width")
        self.price = pn.pane.HTML("", css_classes=["q-price"], sizing_mode="stretch_width")
        self.reply = pn.pane.HTML("", css_classes=["q-reply-pane"], sizing_mode="stretch_width")
        self.history = pn.pane.HTML("", css_classes=["q-history"], sizing_mode="stretch_width")
        self.approve_btn = pn.widgets.Button(label="Approve 批准", color="success", css_classes=["q-approve"])
        self.reason = pn.widgets.TextInput(label="reason 理由", placeholder="why: reject or withdraw",
                                           css_classes=["q-reason"], width=260)
        self.reject_btn = pn.widgets.Button(label="Reject 拒绝", color="danger", css_classes=["q-reject"])
        self.cancel_btn = pn.widgets.Button(label="Withdraw 撤回", color="warning", css_classes=["q-cancel"],
                                            description="withdraw a quote already approved or sent (reason required)")
        self.accept_btn = pn.widgets.Button(label="Client accepted 客户成交", color="primary",
                                            css_classes=["q-accept"])
        self.trade = pn.pane.HTML("", css_classes=["q-trade"])

        async def approve(_e):
            await self._run(self.desk.approve, self.selected)

        async def reject(_e):
            await self._run(self.desk.reject, self.selected, self.reason.value)

        async def cancel(_e):
            await self._run(self.desk.cancel, self.selected, self.reason.value)

        async def accept(_e):
            await self._run(self.desk.accept, self.selected)
        self.approve_btn.on_click(approve)
        self.reject_btn.on_click(reject)
        self.cancel_btn.on_click(cancel)
        self.accept_btn.on_click(accept)
        self.detail = pn.Column(
            self.head,
            pn.Row(pn.Column("#### 客户原文 Chat", self.chat, sizing_mode="stretch_width"),
                   pn.Column("#### 解析字段 Parsed fields (edit to reprice)", self.fields, sizing_mode="stretch_width"),
                   pn.Column("#### 模型价格 Model price", self.price, sizing_mode="stretch_width"),
                   sizing_mode="stretch_width"),
            "#### 回复预览 Reply (sent to the group on approval)", self.reply,
            pn.Row(self.approve_btn, self.reason, self.reject_btn, self.cancel_btn, self.accept_btn, self.trade,
                   sizing_mode="stretch_width"),
            "#### 记录 History", self.history,
            visible=False, sizing_mode="stretch_width", css_classes=["q-detail"])
        who = (f'trader <b class="q-user">{html.escape(user)}</b> · <a href="./logout">log out</a>' if user else
               '<b class="q-user-none">not logged in: decisions are refused</b>')
        self.status = pn.pane.HTML("", css_classes=["q-status"])
        self.layout = pn.Column(
            pn.pane.HTML(f'<div class="q-head">报价审核 Quote review</div><div class="q-meta">{who} · store '
                         f'{html.escape(str(getattr(store, "display_url", store)))}</div>'),
            self.status, self.message, self.table, self.detail, sizing_mode="stretch_width")

    # ---- the look at the store --------------------------------------------------------------------
    def start(self) -> "QuoteReviewPage":
        """Fill the blotter now and look again every ``poll_s`` seconds (this session only)."""
        self.refresh(force=True)
        self._cb = pn.state.add_periodic_callback(self._tick, period=int(self.poll_s * 1000))
        return self

    async def _tick(self) -> None:
        if self._busy or self._acting:      # an action reads the store itself when it is done
            return
        self._busy = True
        try:
            token = await asyncio.to_thread(self.desk.token)
            if token != self.token:
                rows = await asyncio.to_thread(self.desk.rows)
                self.token = token
                self._apply(self.blotter.update(rows, _now(), self.selected))
                await self._reload_selected()
            else:
                self._apply(self.blotter.tick(_now()))
                self._tick_detail()
        except Exception as e:       # a store that went away: say so, keep the page, try again next tick
            log.exception("quote blotter: reading the store failed")
            self.status.object = f'<span class="q-error">cannot read the store: {html.escape(str(e))}</span>'
        finally:
            self._busy = False

    def refresh(self, force: bool = False) -> None:
        """Read the store now (synchronously: at start and after an action)."""
        token = self.desk.token()
        if force or token != self.token:
            self.token = token
            self._apply(self.blotter.update(self.desk.rows(), _now(), self.selected))

    def _apply(self, change: v.Change) -> None:
        if change.kind == "patch":
            self.table.patch(change.patches, as_index=False)
        elif change.kind == "replace":
            self._rendering = True
            try:
                self.table.value = change.frame
                self.table.selection = change.selection
            finally:
                self._rendering = False
        n = len(self.blotter.frame)
        self.status.object = (f'<span class="q-meta">{n} quote{"s" if n != 1 else ""} · updated '
                              f'{v.cst_text(_now())} (China time)</span>')

    # ---- the detail pane ---------------------------------------------------------------------------
    def _on_select(self, event) -> None:
        if self._rendering:
            return
        if not event.new:
            return
        q = self.blotter.quote_at(event.new[0])
        if q != self.selected:
            self.selected = q
            self.show(q)

    def show(self, quote_id) -> None:
        """Show one quote in the detail pane (read from the service)."""
        try:
            self.quote = self.desk.quote(quote_id)
        except Exception as e:
            self.notify(v.Outcome(False, f"quote {quote_id}: {e}"))
            return
        self.selected = quote_id
        self._render(rebuild=True)

    async def _reload_selected(self) -> None:
        if self.selected is None:
            return
        q = await asyncio.to_thread(self.desk.quote, self.selected)
        if q != self.quote:
            self.quote = q
            self._render(rebuild=False)

    def _tick_detail(self) -> None:
        if self.quote is not None:
            d = v.detail_model(self.quote, _now())
            self.head.object = self._head_html(d)

    def _head_html(self, d: v.Detail) -> str:
        four = f'<div class="q-four-eyes">{html.escape(d.four_eyes)}</div>' if d.four_eyes else ""
        step = f'<div class="q-next">next: {html.escape(d.next_step)}</div>' if d.next_step else ""
        return (f'<div class="q-head q-detail-id" data-quote="{html.escape(str(d.quote_id))}">'
                f'{html.escape(d.header)}</div><div class="q-meta">{html.escape(d.sender)} · received '
                f'{html.escape(d.received)}</div>{four}{step}')

    def _render(self, rebuild: bool) -> None:
        d = v.detail_model(self.quote, _now())
        self.detail.visible = True
        self.head.object = self._head_html(d)
        self.chat.object = v.chat_html(d.chat)
        self.price.object = v.table_html(d.price_rows, "q-price-table")
        self.reply.object = (f'<div class="q-meta q-reply-to">{html.escape(d.reply_to)}</div>'
                             f'<div class="q-reply">{html.escape(d.reply)}</div>')
        self.history.object = v.table_html(d.history, "q-history-table", ("time", "from", "to", "by", "details"))
        self.trade.object = (f'<span class="q-trade-id">trade <b>{html.escape(d.trade_id)}</b></span>'
                             if d.trade_id else "")
        self._rendering = True
        try:
            names = [f for f, *_ in d.fields]
            if rebuild or names != [getattr(w, "_q_field", None) for w in self.fields]:
                self.fields.objects = [self._field_input(f, label, text, value) for f, label, text, value in d.fields]
            else:
                for w, (f, _label, text, value) in zip(self.fields, d.fields):
                    w._q_value = value
                    if w.value != text:
                        w.value = text
        finally:
            self._rendering = False

    def _field_input(self, name: str, label: str, text: str, value):
        w = pn.widgets.TextInput(label=label, value=text, css_classes=["q-field", f"q-field-{name}"],
                                 sizing_mode="stretch_width")
        w._q_field, w._q_value = name, value

        # A synchronous watcher, so the page's own settings (under ``_rendering``) are told apart
        # from the trader's: an async one runs later, after the flag is down, and took the page's
        # own "0.7" for an edit ("ki_barrier unchanged" over the "repriced" message).
        def edited(event, w=w):
            if self._rendering or event.new == event.old:
                return
            args = (self.desk.edit, self.selected, w._q_field, event.new, w._q_value)

            async def go():
                await self._run(*args)
            pn.state.execute(go)
        w.param.watch(edited, "value")
        return w

    # ---- actions -----------------------------------------------------------------------------------
    async def _run(self, action, *args) -> None:
        """Do one trader action in a worker thread (pricing or booking may take a while), then show
        its outcome and the quote after it."""
        if self.selected is None:
            self.notify(v.Outcome(False, "select a quote in the blotter first"))
            return
        buttons = (self.approve_btn, self.reject_btn, self.cancel_btn, self.accept_btn)
        for b in buttons:
            b.loading = True
        self._acting = True
        try:
            await self._act_and_show(action, args)
        finally:
            self._acting = False
            for b in buttons:
                b.loading = False

    async def _act_and_show(self, action, args) -> None:
        out = await asyncio.to_thread(action, *args)
        self.notify(out)
        if out.ok:
            self.reason.value = ""
        new_id = (out.quote or {}).get("quote_id")
        rebuild = new_id is not None and new_id != self.selected
        if rebuild:                  # an edit reprices into a new revision: follow it
            self.selected = new_id
        try:
            self.token = await asyncio.to_thread(self.desk.token)
            rows = await asyncio.to_thread(self.desk.rows)
            self._apply(self.blotter.update(rows, _now(), self.selected))
            self.quote = await asyncio.to_thread(self.desk.quote, self.selected)
        except Exception as e:
            self.notify(v.Outcome(False, f"quote {self.selected}: {e}"))
            return
        self._render(rebuild=rebuild)

    def notify(self, out: v.Outcome) -> None:
        """The outcome as a notification (when the page has them) and in the message bar."""
        show_outcome(self.message, out.ok, out.message, error_ms=6000)

    def servable(self):
        return self.layout.servable(title="报价审核 Quote review")
