"""The operations view of confirmation breaks (``dashboards/confirm_breaks.py``).

Left: the breaks (open by default; resolved and accepted on choice), newest first. Right: the one
opened: what broke, each field that differs with the booked value beside the document's (and the
confidence it was read with), the candidate trades when none or several matched, the document
(download), and accept / resolve with a comment in the logged-in user's name (operations group,
from the hub or the users file). The logic is ``otclab.confirm.breaks``; this page only shows
and calls it.
"""
from __future__ import annotations

import html
from pathlib import Path

import panel as pn

from ..confirm import attach as A
from ..confirm.breaks import close_break, list_breaks
from ..core.errors import OtcError

STATUS_LABELS = {"open": "待处理 open", "accepted": "已接受 accepted", "resolved": "已关闭 resolved", "all": "全部 all"}
KIND_LABELS = {"mismatch": "要素差异 fields differ", "no_match": "无匹配交易 no trade",
               "ambiguous": "多笔匹配 several trades", "unconfirmable": "无确认书格式 no form"}
CSS = """
.cb-table { border-collapse: collapse; width: 100%; font-size: 13px; }
.cb-table th, .cb-table td { border-bottom: 1px solid #ddd; padding: 4px 8px; text-align: left; }
.cb-table td.cb-doc { color: #b00020; font-weight: 600; }
.cb-head { font-size: 20px; font-weight: 600; }
.cb-en { color: #666; font-weight: 400; font-size: 14px; }
"""


def _v(x) -> str:
    if x is None:
        return "—"
    if isinstance(x, float):
        return f"{x:,.2f}" if abs(x) >= 1e4 else f"{x:.6g}"
    return html.escape(str(x))


def _conf(item: dict) -> str:
    c = item.get("confidence")
    return "—" if c is None else f"{c:.2f} / {item['threshold']:.2f}"


def fields_html(items: list[dict]) -> str:
    """The fields of a break: field, booked value, document value, kind, confidence / threshold."""
    rows = "".join(
        f'<tr class="cb-field cb-field-{html.escape(i["field"])}"><td>{html.escape(i["field"])}</td><td>{_v(i["booked"])}</td>'
        f'<td class="cb-doc">{_v(i["document"])}</td><td>{html.escape(i["kind"])}</td>'
        f'<td>{_conf(i)}</td></tr>' for i in items)
    return ('<table class="cb-table cb-fields"><tr><th>要素 field</th><th>簿记 booked</th><th>确认书 document</th>'
            f'<th>类型 kind</th><th>置信度 confidence / threshold</th></tr>{rows}</table>')


def candidates_html(cands: list[dict]) -> str:
    rows = "".join(
        f'<tr class="cb-candidate"><td>{html.escape(c["trade_id"])}</td><td>{html.escape(c["counterparty"])}</td>'
        f'<td>{html.escape(c["underlying"])}</td><td>{c["trade_date"]}</td><td>{_v(c["notional"])}</td>'
        f'<td>{html.escape(", ".join(c.get("agrees_on") or []))}</td></tr>' for c in cands)
    return ('<table class="cb-table cb-candidates"><tr><th>交易 trade</th><th>交易对手 counterparty</th>'
            f'<th>标的 underlying</th><th>交易日 trade date</th><th>名义本金 notional</th><th>一致 agrees on</th></tr>{rows}'
            '</table>')


class ConfirmBreaksPage:
    def __init__(self, store, identity, documents: Path | None = None):
        pn.extension(raw_css=[CSS])
        self.store, self.identity = store, identity
        self.documents = Path(documents or A.documents_dir())
        self.status = pn.widgets.RadioButtonGroup(options={v: k for k, v in STATUS_LABELS.items()}, value="open",
                                                  css_classes=["cb-status"])
        self.status.param.watch(lambda e: self.refresh(), "value")
        self.list_pane = pn.Column(sizing_mode="stretch_width", css_classes=["cb-list"])
        self.detail = pn.Column(sizing_mode="stretch_width", css_classes=["cb-detail"])
        self.message = pn.pane.Alert("", alert_type="light", visible=False, css_classes=["cb-message"])
        who = identity.name if identity else "未登录 not logged in"
        self.layout = pn.Column(
            pn.pane.HTML(f'<div class="cb-head">确认书差异 <span class="cb-en">Confirmation breaks</span> '
                         f'<span class="cb-en">· {html.escape(who)}</span></div>'),
            self.message,
            pn.Row(pn.Column(self.status, self.list_pane, width=520), self.detail, sizing_mode="stretch_width"),
            sizing_mode="stretch_width")
        self.refresh()

    def say(self, text: str, kind: str = "success") -> None:
        self.message.object, self.message.alert_type, self.message.visible = text, kind, True

    def refresh(self) -> None:
        st = self.status.value
        rows = list_breaks(self.store, None if st == "all" else st)
        if not rows:
            self.list_pane.objects = [pn.pane.HTML('<div class="cb-empty">没有差异 no breaks</div>')]
            return
        items = []
        for b in rows:
            btn = pn.widgets.Button(name=f"#{b['id']}", width=70, css_classes=["cb-open", f"cb-open-{b['id']}"])
            btn.on_click(lambda e, bid=b["id"]: self.open(bid))
            items.append(pn.Row(btn, pn.pane.HTML(
                f'<div class="cb-row"><b>{html.escape(KIND_LABELS.get(b["kind"], b["kind"]))}</b> · '
                f'{html.escape(b["trade_id"] or "—")} · {html.escape(b["file_name"])} · {b["status"]}<br>'
                f'<span class="cb-en">{b["created_at"]:%Y-%m-%d %H:%M} UTC</span></div>'), sizing_mode="stretch_width"))
        self.list_pane.objects = items

    def open(self, break_id: int) -> None:
        b = next((x for x in list_breaks(self.store, None) if x["id"] == break_id), None)
        if b is None:
            self.say(f"no break {break_id}", "danger")
            return
        parts = [pn.pane.HTML(
            f'<div class="cb-title">差异 Break #{b["id"]} · {html.escape(KIND_LABELS.get(b["kind"], b["kind"]))} · '
            f'{b["status"]}</div><div class="cb-summary">{html.escape(b["summary"])}</div>', sizing_mode="stretch_width")]
        if b["fields"]:
            parts.append(pn.pane.HTML(fields_html(b["fields"]), sizing_mode="stretch_width"))
        if b["candidates"]:
            parts.append(pn.pane.HTML(candidates_html(b["candidates"]), sizing_mode="stretch_width"))
        path = A.document_path(b["document_path"], self.documents)
        if path.exists():
            parts.append(pn.widgets.FileDownload(file=str(path), filename=b["file_name"], button_type="primary",
                                                 label=f"确认书 document: {b['file_name']}", css_classes=["cb-document"]))
        if b["status"] != "open":
            parts.append(pn.pane.HTML(f'<div class="cb-closed">{b["status"]} by {html.escape(b["resolved_by"] or "")}: '
                                      f'{html.escape(b["comment"] or "")}</div>'))
            self.detail.objects = parts
            return
        comment = pn.widgets.TextAreaInput(name="说明 Comment (required)", css_classes=["cb-comment"], height=70)
        trade = None
        if not b["trade_id"] and b["candidates"]:
            trade = pn.widgets.Select(name="确认的交易 trade it confirms", css_classes=["cb-trade"],
                                      options=[""] + [c["trade_id"] for c in b["candidates"]])
        accept = pn.widgets.Button(name="接受 Accept (trade confirmed)", button_type="success", css_classes=["cb-accept"])
        resolve = pn.widgets.Button(name="关闭 Resolve (not confirmed)", button_type="warning", css_classes=["cb-resolve"])

        def act(action: str) -> None:
            if self.identity is None:
                self.say("log in to close a break", "danger")
                return
            try:
                done = close_break(self.store, break_id, action, self.identity, comment.value or "",
                                   (trade.value or None) if trade is not None else None)
            except OtcError as exc:
                self.say(str(exc), "danger")
                return
            self.say(f"break #{done['id']} {done['status']} by {done['resolved_by']}"
                     + (f": {done['trade_id']} confirmed" if done["status"] == "accepted" else ""))
            self.refresh()
            self.open(break_id)

        accept.on_click(lambda e: act("accept"))
        resolve.on_click(lambda e: act("resolve"))
        parts += [comment] + ([trade] if trade is not None else []) + [pn.Row(accept, resolve)]
        self.detail.objects = parts

    def servable(self):
        return self.layout.servable(title="确认书差异 Confirmation breaks")
