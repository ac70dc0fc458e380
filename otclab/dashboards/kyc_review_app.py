"""The Panel page of the KYC reviewers (``panel serve dashboards/kyc_review.py``). What a case holds,
which step it waits for, what each role checks and every decision are ``otclab.kyc.service``'s
(``queue``, ``view``, ``CHECKS_BY_ROLE``, ``decide_hit``, ``act``, ``report``); this page shows
them and names the logged-in reviewer.

One ``KycReviewPage`` per browser session. The reviewer's role comes from their groups (an
``otclab.access.Identity``: from the users file when served standalone, from the hub behind
JupyterHub). The queue lists the cases waiting for that role (looked at again every ``poll_s``
seconds); the case view shows FIRST what that role checks, then the rest: the facts, the documents
with their hashes, the suitability result with its rule references, the screening hits (score,
matched entry, a decision per hit), the AML rating and its factors, the history. Approve, reject
and return take a comment; a refusal (four-eyes, a role not at the case's step) shows with its
reason. After the last approval the sealed review report is generated and offered for download.
"""
from __future__ import annotations

import asyncio
import io
import logging
from pathlib import Path

import panel as pn

from ..core.errors import OtcError
from ..kyc.documents import read as read_document
from . import kyc_view as v
from .outcome import show_outcome

log = logging.getLogger("otclab.dashboards.kyc_review")


class KycReviewPage:
    """The page of one session: ``store`` (an open Store), ``identity`` (``otclab.access.Identity``
    of the logged-in reviewer, None when nobody is logged in), ``poll_s`` seconds between looks at
    the queue."""

    def __init__(self, store, identity, poll_s: float = 2.0, service=None):
        pn.extension(notifications=True, raw_css=[v.CSS])
        if service is None:
            from ..kyc import service
        self.kyc = service
        self.store = store
        self.identity = identity
        self.poll_s = poll_s
        self.roles = v.reviewer_roles(identity) if identity else []
        self.role = self.roles[0] if self.roles else None
        self.case_id: str | None = None
        self.view = None
        self._queue_key = None
        self._busy = False
        self.message = pn.pane.Alert("", alert_type="light", visible=False, css_classes=["kyc-message"],
                                     sizing_mode="stretch_width")
        self.queue_pane = pn.Column(sizing_mode="stretch_width", css_classes=["kyc-queue"])
        self.case_pane = pn.Column(sizing_mode="stretch_width", css_classes=["kyc-case"], visible=False)
        self.comment = pn.widgets.TextAreaInput(name="审核意见 Comment", placeholder="required to reject or return",
                                                css_classes=["kyc-comment"], width=520, height=70)
        self.approve_btn = pn.widgets.Button(name="通过 Approve", button_type="success", css_classes=["kyc-approve"])
        self.return_btn = pn.widgets.Button(name="退回修改 Return", button_type="warning", css_classes=["kyc-return"])
        self.reject_btn = pn.widgets.Button(name="拒绝 Reject", button_type="danger", css_classes=["kyc-reject"])
        for btn, action in ((self.approve_btn, "approve"), (self.return_btn, "return"), (self.reject_btn, "reject")):
            btn.on_click(self._action_handler(action))
        self.report_pane = pn.Column(css_classes=["kyc-report"])
        self.actions = pn.Row(self.comment, self.approve_btn, self.return_btn, self.reject_btn,
                              sizing_mode="stretch_width", css_classes=["kyc-actions"])
        if identity is None:
            who = '<b class="kyc-user-none">未登录 not logged in</b>'
        else:
            roles = "、".join(v.ROLE_LABELS[r] for r in self.roles) or "无审核角色 no reviewer role"
            who = (f'<b class="kyc-user">{v.esc(identity.name)}</b> · <span class="kyc-role">{v.esc(roles)}'
                   f'</span> · <a href="./logout">退出 log out</a>')
        head = [pn.pane.HTML(f'<div class="kyc-head">开户审核 <span class="kyc-en">KYC review</span></div>'
                             f'<div class="kyc-meta">{who}</div>', sizing_mode="stretch_width")]
        if len(self.roles) > 1:
            pick = pn.widgets.RadioButtonGroup(options={v.ROLE_LABELS[r]: r for r in self.roles}, value=self.role,
                                               css_classes=["kyc-role-pick"])
            pick.param.watch(lambda e: self._switch_role(e.new), "value")
            head.append(pick)
        self.layout = pn.Column(*head, self.message, "#### 待审核 Waiting for you", self.queue_pane,
                                self.case_pane, sizing_mode="stretch_width", max_width=1400)

    def _action_handler(self, action: str):
        async def handler(_e):
            await self._act(action)
        return handler

    # ---- the queue --------------------------------------------------------------------------------
    def start(self) -> "KycReviewPage":
        """Show the queue now and look again every ``poll_s`` seconds (this session only)."""
        self.refresh_queue()
        if self.role:
            self._cb = pn.state.add_periodic_callback(self._tick, period=int(self.poll_s * 1000))
        return self

    async def _tick(self) -> None:
        if self._busy:
            return
        self._busy = True
        try:
            rows = await asyncio.to_thread(self.kyc.queue, self.store, self.role)
            self._show_queue(rows)
        except Exception:            # a store that went away: keep the page, try again next tick
            log.exception("kyc review: reading the queue failed")
        finally:
            self._busy = False

    def _switch_role(self, role: str) -> None:
        self.role = role
        self.case_pane.visible = False
        self.case_id = None
        self.refresh_queue()

    def refresh_queue(self) -> None:
        if not self.role:
            self.queue_pane.objects = [pn.pane.HTML(
                '<div class="kyc-error kyc-no-role">您不属于任何审核岗位 <span class="kyc-en">you hold none of the '
                'reviewer groups (sales, operations, compliance, risk)</span></div>')]
            return
        self._show_queue(self.kyc.queue(self.store, self.role))

    def _show_queue(self, rows) -> None:
        key = [(r.case_id, r.state, r.waiting_since, r.open_hits, r.aml_level) for r in rows]
        if key == self._queue_key:
            return
        self._queue_key = key
        if not rows:
            self.queue_pane.objects = [pn.pane.HTML('<div class="kyc-meta kyc-queue-empty">暂无待审核案件 '
                                                    '<span class="kyc-en">no case waits for your step</span></div>')]
            return
        items = []
        for r in rows:
            b = pn.widgets.Button(name="打开 Open", css_classes=["kyc-open", f"kyc-open-{r.case_id}"], width=110)
            b.on_click(lambda _e, c=r.case_id: self.open(c))
            items.append(pn.Row(b, pn.pane.HTML(v.queue_row_html(r)), sizing_mode="stretch_width"))
        self.queue_pane.objects = items

    # ---- the case ----------------------------------------------------------------------------------
    def open(self, case_id: str) -> None:
        """Show one case: first what this role checks, then the rest."""
        try:
            self.view = self.kyc.view(self.store, case_id)
        except OtcError as e:
            self.notify(False, f"case {case_id}: {e.message}")
            return
        self.case_id = case_id
        if self.view.state != "approved":
            self.report_pane.objects = []
        self._render()

    def _sections(self) -> dict:
        """The case view's parts by key (the keys ``CHECKS_BY_ROLE`` names), each a titled column."""
        vw, form = self.view, self.kyc.FORM

        def part(key, title, *objs):
            return pn.Column(f"#### {title}", *objs, css_classes=["kyc-section", f"kyc-part-{key}"],
                             sizing_mode="stretch_width")

        def html(text, css=""):
            return pn.pane.HTML(text, sizing_mode="stretch_width", css_classes=[css] if css else [])
        hits = []
        for h in vw.hits or []:
            hits.append(html(v.hit_html(h)))
            if h.get("decision") is None:
                hits.append(self._hit_buttons(h))
        if not hits:
            hits = [html('<div class="kyc-ok">无命中 no hits</div>')]
        docs = [html(v.documents_html(vw))]
        for d in vw.documents or []:
            docs.append(pn.widgets.FileDownload(
                callback=lambda d=d: io.BytesIO(read_document(self.store, d)), filename=d.filename,
                label=f"下载 download {d.filename} (v{d.version})", css_classes=["kyc-doc-download"],
                button_type="light", embed=False, width=360))
        return {
            "institution": part("institution", "机构与身份 Institution & identity",
                                html(v.facts_html(vw, form, ("institution",), v.IDENTITY_FIELDS), "kyc-identity")),
            "relationship": part("relationship", "客户关系 Relationship", html(v.relationship_html(vw))),
            "traders": part("traders", "授权交易人员与受益所有人 Traders & beneficial owners",
                            html(v.facts_html(vw, form, ("institution",), v.PEOPLE_FIELDS))),
            "documents": part("documents", "证明文件 Documents", *docs),
            "validity": part("validity", "证件有效期 Validity", html(v.facts_html(vw, form, ("institution",),
                                                                               v.VALIDITY_FIELDS))),
            "suitability": part("suitability", "适当性 Suitability", html(v.suitability_html(vw), "kyc-suitability")),
            "screening": part("screening", "名单筛查 Screening", *hits),
            "aml": part("aml", "反洗钱评级 AML rating", html(v.aml_html(vw))),
            "questionnaire": part("questionnaire", "风险承受能力 Risk tolerance vs products",
                                  html(v.c_level_html(vw) + v.facts_html(vw, form, ("questionnaire",)))),
            "limits": part("limits", "财务与限额 Financials & limits",
                           html(v.facts_html(vw, form, ("financials",)) + v.limits_html(vw))),
            "history": part("history", "记录 History", html(v.history_html(vw))),
        }

    def _render(self) -> None:
        vw = self.view
        sections = self._sections()
        checks = self.kyc.CHECKS_BY_ROLE.get(self.role) if self.role else None
        focus = v.focus_keys(checks, sections)
        head = pn.pane.HTML(
            f'<div class="kyc-head kyc-case-head" data-case="{v.esc(self.case_id)}">{v.esc(vw.institution)}'
            f' · {v.esc(self.case_id)}</div><div class="kyc-meta">USCC {v.esc(vw.uscc)} · 状态 state <b class="kyc-state" '
            f'data-state="{v.esc(vw.state)}">{v.esc(v.STATE_LABELS.get(vw.state, vw.state))}</b> · 填报 prepared by '
            f'{v.esc("、".join(vw.prepared_by or []))}</div>', sizing_mode="stretch_width")
        checklist = pn.pane.HTML(v.checklist_html(self.role, checks), sizing_mode="stretch_width")
        self.actions.visible = vw.step is not None        # a decided case takes no more decisions
        first = [sections[k] for k in focus]
        rest = [sections[k] for k in sections if k not in focus]
        self.case_pane.objects = [
            head,
            pn.Column(checklist, *first, css_classes=["kyc-focus", "kyc-focus-box"], sizing_mode="stretch_width"),
            self.actions,
            self.report_pane,
            pn.Column("### 其他信息 Everything else", *rest, sizing_mode="stretch_width", css_classes=["kyc-rest"])]
        self.case_pane.visible = True

    def _hit_buttons(self, hit):
        """Decide buttons for one screening hit not yet decided."""
        hid = v.get(hit, "hit_id")
        fp = pn.widgets.Button(name="误报 False positive", button_type="success",
                               css_classes=["kyc-hit-clear", f"kyc-hit-clear-{hid}"])
        tm = pn.widgets.Button(name="确认命中 True match", button_type="danger",
                               css_classes=["kyc-hit-match", f"kyc-hit-match-{hid}"])
        fp.on_click(lambda _e: self._decide(hid, "false_positive"))
        tm.on_click(lambda _e: self._decide(hid, "true_match"))
        return pn.Row(fp, tm)

    def _decide(self, hit_id, decision: str) -> None:
        try:
            self.kyc.decide_hit(self.store, self.case_id, hit_id, decision, self.identity.name,
                                self.comment.value.strip())
        except OtcError as e:
            self.notify(False, f"case {self.case_id}: decision refused: {e.message}")
            return
        self.notify(True, f"case {self.case_id}: hit {hit_id} marked {decision} by {self.identity.name}")
        self.comment.value = ""          # the reason was the hit's, not the next decision's
        self.open(self.case_id)

    async def _act(self, action: str) -> None:
        """One decision in a worker thread (the last approval seals the report: pyHanko runs its
        own event loop, which cannot nest in the server's), then the case and the queue after it."""
        if self.case_id is None:
            self.notify(False, "请先打开一个案件 open a case first")
            return
        buttons = (self.approve_btn, self.return_btn, self.reject_btn)
        for b in buttons:
            b.loading = True
        try:
            state = await asyncio.to_thread(self.kyc.act, self.store, self.case_id, action, self.identity,
                                            self.comment.value.strip())
        except OtcError as e:
            self.notify(False, f"case {self.case_id}: {action} refused: {e.message}")
            return
        finally:
            for b in buttons:
                b.loading = False
        self.notify(True, f"case {self.case_id}: {action} by {self.identity.name}; now {state}")
        self.comment.value = ""
        self.view = await asyncio.to_thread(self.kyc.view, self.store, self.case_id)
        if self.view.state == "approved":
            await self._offer_report()
        self._render()
        self.refresh_queue()

    async def _offer_report(self) -> None:
        """The sealed review report (generated once the case is approved), as a download."""
        try:
            ref = await asyncio.to_thread(self.kyc.report, self.store, self.case_id, by=self.identity.name)
        except OtcError as e:
            self.notify(False, f"case {self.case_id}: the report could not be made: {e.message}")
            return
        path = Path(ref.path)
        self.report_pane.objects = [
            pn.pane.HTML(f'<div class="kyc-section kyc-report-ready">审核报告已生成并加盖电子印章 <span class="kyc-en">'
                         f'the review report is sealed</span> · SHA-256 <code class="kyc-report-sha">'
                         f'{v.esc(ref.sha256)}</code></div>'),
            pn.widgets.FileDownload(file=str(path), filename=path.name, button_type="primary",
                                    label="下载审核报告 Download the report", css_classes=["kyc-report-download"])]

    def notify(self, ok: bool, message: str) -> None:
        """An outcome in the message bar and as a notification."""
        show_outcome(self.message, ok, message)

    def servable(self):
        return self.layout.servable(title="开户审核 KYC review")
