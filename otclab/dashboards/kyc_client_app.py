"""The Panel page of the client's KYC form (``panel serve dashboards/kyc_client.py``). The form is
``otclab.kyc.service.FORM`` rendered as it is; every check, save, upload and the submission are
the service's (``check_field``, ``save_section``, ``upload``, ``submit``); this page only shows
them.

One ``KycClientPage`` per browser session, for the logged-in user (``pn.state.user``). A user
without a case is asked for the invitation code (``redeem``). Then one tab per step: the
institution, financials, the risk questionnaire, documents (one upload per required kind, its
version and SHA-256 shown after upload, a refusal shown with its reason), review & submit. Each
field is checked as it is typed, the reason beside it (red: refused, amber: a warning); "保存
Save" stores the step (a field with an error is reported, not stored as valid). A case returned
for correction shows the reviewers' comments and can be corrected and submitted again; a case
under review is shown read-only. Once the case is approved, the first tab is "协议签署
Agreements": each agreement the firm issued (title, state, SHA-256, a download of the PDF) with a
"签署 Sign" button, and one to sign all; each signature is the service's
(``sign_agreements_online``: an event certificate for the logged-in client's institution).
"""
from __future__ import annotations

import asyncio
import logging

import panel as pn

from ..core.errors import OtcError
from . import kyc_view as v
from .outcome import show_outcome

log = logging.getLogger("otclab.dashboards.kyc_client")

EDITABLE = {"draft", "returned"}


class KycClientPage:
    """The page of one session: ``store`` (an open Store), ``user`` (the login; None when served
    without authentication: the page then only says so)."""

    def __init__(self, store, user: str | None, service=None):
        pn.extension(notifications=True, raw_css=[v.CSS])
        if service is None:
            from ..kyc import service
        self.kyc = service
        self.store = store
        self.user = user
        self.case_id: str | None = None
        self.view = None
        self.inputs: dict[str, dict[str, object]] = {}     # step -> field -> widget
        self.checks: dict[str, dict[str, pn.pane.HTML]] = {}
        self.message = pn.pane.Alert("", alert_type="light", visible=False, css_classes=["kyc-message"],
                                     sizing_mode="stretch_width")
        self.banner = pn.pane.HTML("", css_classes=["kyc-banner"], sizing_mode="stretch_width")
        self.body = pn.Column(sizing_mode="stretch_width")
        who = (f'<b class="kyc-user">{v.esc(user)}</b> · <a href="./logout">退出 log out</a>' if user else
               '<b class="kyc-user-none">未登录 not logged in</b>')
        self.layout = pn.Column(
            pn.pane.HTML(f'<div class="kyc-head">机构客户开户 · 尽职调查 <span class="kyc-en">Institutional '
                         f'client onboarding (KYC)</span></div><div class="kyc-meta">{who}</div>',
                         sizing_mode="stretch_width"),
            self.message, self.banner, self.body, sizing_mode="stretch_width", max_width=1200)
        self.refresh()

    # ---- which screen -------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Show the screen the user's case is at: the invitation code, the form, or its state."""
        if not self.user:
            self.body.objects = [pn.pane.HTML('<div class="kyc-error">请通过邀请链接登录 Log in with the account '
                                              'your invitation names.</div>')]
            return
        self.case_id = self.kyc.case_for_user(self.store, self.user)
        if self.case_id is None:
            self.body.objects = [self._invitation()]
            return
        self.view = self.kyc.view(self.store, self.case_id)
        self._render_case()

    def _invitation(self):
        code = pn.widgets.TextInput(name="邀请码 Invitation code", placeholder="the code in your invitation",
                                    css_classes=["kyc-invite-code"], width=360)
        btn = pn.widgets.Button(name="开始填写 Start", button_type="primary", css_classes=["kyc-redeem"])

        def redeem(_e):
            try:
                self.case_id = self.kyc.redeem(self.store, code.value.strip(), self.user)
            except OtcError as e:
                self.notify(False, f"邀请码无效 invitation refused: {e.message}")
                return
            self.notify(True, f"邀请码已确认 invitation accepted: case {self.case_id}")
            self.refresh()
        btn.on_click(redeem)
        return pn.Column(pn.pane.HTML('<div class="kyc-section">本平台仅限受邀机构使用。请输入销售发给您的邀请码。'
                                      '<br><span class="kyc-en">Invitation only: enter the code your sales '
                                      'contact sent you.</span></div>'), pn.Row(code, btn))

    # ---- the form -------------------------------------------------------------------------------------
    def _facts(self) -> dict:
        """The saved values, {field: typed value} (as ``view`` returns them)."""
        return dict(v.get(self.view, "facts") or {})

    def client_type(self) -> str | None:
        w = self.inputs.get("institution", {}).get("client_type")
        if w is not None and w.value:
            return w.value
        return v.get(self.view, "client_type")

    def _render_case(self) -> None:
        state = v.get(self.view, "state")
        editable = state in EDITABLE
        self.banner.object = self._banner_html(state)
        self.inputs, self.checks = {}, {}
        tabs = []
        self.docs = pn.Column(sizing_mode="stretch_width", css_classes=["kyc-docs"])
        self.rows: dict[str, tuple[dict, pn.Row]] = {}
        self.step_cols: dict[str, tuple[pn.Column, list, pn.widgets.Button]] = {}
        for step in self.kyc.FORM:
            title = f'{v.get(step, "label_zh")} {v.get(step, "label_en") or ""}'.strip()
            if v.get(step, "fields"):
                tabs.append((title, self._step(step, editable)))
            else:                    # the documents step: one upload per required kind
                tabs.append((title, self.docs))
        self._render_documents(editable)
        self._show_applicable()
        self.summary = pn.Column(sizing_mode="stretch_width", css_classes=["kyc-summary"])
        self._render_summary(editable)
        tabs.append(("确认提交 Review & submit", self.summary))
        if state == "approved":               # what is left to do: sign the agreements
            self.agreements = pn.Column(sizing_mode="stretch_width", css_classes=["kyc-agreements"])
            self._render_agreements()
            tabs.insert(0, ("协议签署 Agreements", self.agreements))
        self.tabs = pn.Tabs(*tabs, sizing_mode="stretch_width", css_classes=["kyc-tabs"], dynamic=False)
        self.body.objects = [self.tabs]
        # saved values show their checks at once (a returned case: what the reviewers saw)
        saved = v.get(self.view, "checks") or {}
        for step, fields in self.inputs.items():
            for name in fields:
                if name in saved:
                    self.checks[step][name].object = v.check_html(saved[name])

    def _banner_html(self, state) -> str:
        label = v.STATE_LABELS.get(state, state)
        out = (f'<div class="kyc-meta">案件 case <b class="kyc-case-id">{v.esc(self.case_id)}</b> · 状态 state '
               f'<b class="kyc-state" data-state="{v.esc(state)}">{v.esc(label)}</b></div>')
        if state == "returned":
            comments = [h for h in (v.get(self.view, "history") or []) if v.get(h, "action") == "return"]
            rows = "".join(f'<li><b>{v.esc(v.get(h, "by"))}</b> ({v.esc(v.get(h, "role"))}, '
                           f'{v.esc(v.cst_text(v.get(h, "at")))}): <span class="kyc-return-comment">'
                           f'{v.esc(v.get(h, "comment"))}</span></li>' for h in comments[-1:])
            out += (f'<div class="kyc-returned">审核退回，请修改后重新提交 <span class="kyc-en">Returned for '
                    f'correction: change what the reviewers ask, then submit again</span><ul>{rows}</ul></div>')
        elif state == "approved":
            out += ('<div class="kyc-section kyc-approved">审核已通过，请签署协议 <span class="kyc-en">Approved: '
                    'sign the agreements (协议签署 Agreements) to start trading</span></div>')
        elif state not in EDITABLE:
            out += ('<div class="kyc-section kyc-under-review">您的资料已提交，正在审核中 <span class="kyc-en">'
                    'Submitted: the desk is reviewing it; the form is read-only</span></div>')
        return out

    def _step(self, step, editable: bool):
        name = v.get(step, "name")
        values = self._facts()
        self.inputs[name], self.checks[name] = {}, {}
        rows = []
        for f in v.get(step, "fields"):
            w = self._input(name, f, values.get(v.get(f, "name")), editable)
            chk = pn.pane.HTML("", css_classes=["kyc-check", f"kyc-check-{v.get(f, 'name')}"],
                               sizing_mode="stretch_width")
            self.inputs[name][v.get(f, "name")] = w
            self.checks[name][v.get(f, "name")] = chk
            row = pn.Row(pn.pane.HTML(v.label_html(v.get(f, "label_zh"), v.get(f, "label_en"), v.get(f, "required"),
                                                   v.get(f, "help")), width=300), w, chk,
                         sizing_mode="stretch_width", css_classes=[f"kyc-row-{v.get(f, 'name')}"])
            self.rows[v.get(f, "name")] = (f, row)
            rows.append(row)
        save = pn.widgets.Button(name="保存 Save", button_type="primary", css_classes=[f"kyc-save-{name}"],
                                 disabled=not editable)
        save.on_click(lambda _e, s=name: self.save(s))
        col = pn.Column(*rows, save, sizing_mode="stretch_width", css_classes=[f"kyc-step-{name}"])
        self.step_cols[name] = (col, [(v.get(f, "name"), r) for f, r in zip(v.get(step, "fields"), rows)], save)
        return col

    def _input(self, step: str, f, value, editable: bool):
        kind, name = v.get(f, "kind"), v.get(f, "name")
        css = ["kyc-field", f"kyc-field-{name}"]
        choices = v.get(f, "choices")
        if kind == "choice" or choices:
            opts = {"—": ""}
            for c in choices or []:
                opts[v.choice_label(c)] = v.choice_value(c)
            w = pn.widgets.Select(options=opts, value=value if value in opts.values() else "", css_classes=css,
                                  width=360, disabled=not editable)
            w.param.watch(lambda e, s=step, n=name: self._check(s, n, e.new), "value")
        elif kind == "list":
            text = "\n".join(str(x) for x in value) if isinstance(value, list) else (value or "")
            w = pn.widgets.TextAreaInput(value=text, placeholder=v.get(f, "placeholder") or "one per line 每行一个",
                                         css_classes=css, width=360, height=90, disabled=not editable)
            w.param.watch(lambda e, s=step, n=name: self._check(s, n, e.new), "value_input")
        else:
            w = pn.widgets.TextInput(value=v.field_text(value),
                                     placeholder=v.get(f, "placeholder") or "", css_classes=css, width=360,
                                     disabled=not editable)
            w.param.watch(lambda e, s=step, n=name: self._check(s, n, e.new), "value_input")
        return w

    def _value(self, step: str, name: str):
        w = self.inputs[step][name]
        if isinstance(w, pn.widgets.TextAreaInput):
            text = w.value_input if w.value_input is not None else w.value
            return [line.strip() for line in (text or "").splitlines() if line.strip()]
        if isinstance(w, pn.widgets.TextInput):
            return w.value_input if w.value_input is not None else w.value
        return w.value

    def _check(self, step: str, name: str, value) -> None:
        """The field's check as it is typed (``check_field``; an empty field shows nothing)."""
        if isinstance(value, str) and isinstance(self.inputs[step][name], pn.widgets.TextAreaInput):
            value = [line.strip() for line in value.splitlines() if line.strip()]
        if value in ("", None, []):
            self.checks[step][name].object = ""
            return
        try:
            chk = self.kyc.check_field(name, value, client_type=self.client_type())
        except OtcError as e:
            chk = {"level": "error", "message": e.message}
        self.checks[step][name].object = v.check_html(chk)
        if step == "institution" and name == "client_type":
            self._render_documents(v.get(self.view, "state") in EDITABLE)
            self._show_applicable()

    def _applies(self, name: str) -> bool:
        types = self.rows[name][0]["client_types"]
        ct = self.client_type()
        return not (types and ct and ct not in types)

    def _show_applicable(self) -> None:
        """Only the fields ``FORM`` names for the chosen client type (all until one is chosen):
        each step's column gets the rows that apply (its children replaced, not hidden: a
        visibility change inside a tab was seen not to reach the browser)."""
        for col, rows, save in self.step_cols.values():
            keep = [r for n, r in rows if self._applies(n)]
            if keep != list(col.objects[:-1]):
                col.objects = [*keep, save]

    def save(self, step: str) -> None:
        """Store the step's values (``save_section``) and show each field's check from the service."""
        values = {n: self._value(step, n) for n in self.inputs[step] if self._applies(n)}
        try:
            checks = self.kyc.save_section(self.store, self.case_id, step, values, self.user)
        except OtcError as e:
            self.notify(False, f"未保存 not saved: {e}")
            return
        for n, chk in (checks or {}).items():
            if n in self.checks[step]:
                self.checks[step][n].object = v.check_html(chk)
        bad = [n for n, c in (checks or {}).items() if v.get(c, "level") == "error"]
        self.view = self.kyc.view(self.store, self.case_id)
        if bad:
            labels = ", ".join(self._label(step, n) for n in bad)
            self.notify(False, f"已保存，但有 {len(bad)} 项需要更正 saved; {len(bad)} to correct: {labels}")
        else:
            self.notify(True, f"已保存 saved: {self._step_label(step)}")
            i = [v.get(s, "name") for s in self.kyc.FORM].index(step)
            self.tabs.active = i + 1
        self._render_summary(v.get(self.view, "state") in EDITABLE)

    def _label(self, step: str, name: str) -> str:
        for s in self.kyc.FORM:
            if v.get(s, "name") == step:
                for f in v.get(s, "fields"):
                    if v.get(f, "name") == name:
                        return v.get(f, "label_zh")
        return name

    def _step_label(self, step: str) -> str:
        for s in self.kyc.FORM:
            if v.get(s, "name") == step:
                return v.get(s, "label_zh")
        return step

    # ---- documents -----------------------------------------------------------------------------------
    def _render_documents(self, editable: bool) -> None:
        ct = self.client_type()
        if not ct:
            self.docs.objects = [pn.pane.HTML('<div class="kyc-meta">请先在“机构信息”中选择机构类型 <span '
                                              'class="kyc-en">choose the client type first: it decides which '
                                              'documents are required</span></div>')]
            return
        have = {v.get(d, "kind"): d for d in v.get(self.view, "documents") or []}    # newest version per kind
        rows = []
        for kind in self.kyc.required_documents(ct):
            k = kind["kind"]
            status = pn.pane.HTML(v.document_html(have[k]) if k in have else "", css_classes=[f"kyc-doc-status-{k}"],
                                  sizing_mode="stretch_width")
            up = pn.widgets.FileInput(accept=".pdf,.png,.jpg,.jpeg", css_classes=["kyc-upload", f"kyc-upload-{k}"],
                                      disabled=not editable, width=260)
            up.param.watch(lambda e, k=k, up=up, st=status: self._upload(k, up, st), "value")
            rows.append(pn.Row(pn.pane.HTML(v.label_html(kind["label_zh"], kind["label_en"], True),
                                            width=260), up, status, sizing_mode="stretch_width"))
        mib = self.kyc.MAX_BYTES / 1048576
        self.docs.objects = [pn.pane.HTML(f'<div class="kyc-meta">PDF 或图片（PNG/JPEG），单个文件不超过 {mib:.0f} MiB；'
                                          f'重新上传为新版本 <span class="kyc-en">PDF or image, at most {mib:.0f} MiB '
                                          'each; a new upload is a new version, earlier ones are kept</span></div>'),
                             *rows]

    def _upload(self, kind: str, widget, status) -> None:
        data, name = widget.value, widget.filename
        if not data:
            return
        try:
            ref = self.kyc.upload(self.store, self.case_id, kind, name, data, self.user)
        except OtcError as e:
            status.object = v.refusal_html(e.message)
            self.notify(False, f"上传被拒绝 upload refused: {name}: {e.message}")
            return
        status.object = v.document_html(ref)
        self.notify(True, f"已上传 uploaded {name}: version {v.get(ref, 'version')}")
        self.view = self.kyc.view(self.store, self.case_id)
        self._render_summary(True)

    # ---- review & submit -------------------------------------------------------------------------------
    def _render_summary(self, editable: bool) -> None:
        rows = []
        facts = self._facts()
        ct = v.get(self.view, "client_type")
        for s in self.kyc.FORM:
            for f in s["fields"]:
                if f["client_types"] and ct and ct not in f["client_types"]:
                    continue
                val = facts.get(f["name"])
                rows.append((f["label_zh"], "、".join(map(str, val)) if isinstance(val, list) else v.field_text(val)))
        labels = {d["kind"]: d["label_zh"] for d in v.get(self.view, "required_documents") or []}
        docs = [(labels.get(d.kind, d.kind), f"v{d.version}", d.filename, d.sha256)
                for d in v.get(self.view, "documents") or []]
        missing = v.get(self.view, "missing") or []
        todo = ("" if not missing else '<div class="kyc-warning kyc-missing">尚缺 still missing: <ul>' +
                "".join(f"<li>{v.esc(m)}</li>" for m in missing) + "</ul></div>")
        btn = pn.widgets.Button(name="提交审核 Submit for review", button_type="success", css_classes=["kyc-submit"],
                                disabled=not editable)

        async def submit(_e):
            btn.loading = True
            try:
                await asyncio.to_thread(self.kyc.submit, self.store, self.case_id, self.user)
            except OtcError as e:
                self.notify(False, f"未能提交 not submitted: {e.message}")
                return
            finally:
                btn.loading = False
            self.notify(True, f"已提交审核 submitted for review: case {self.case_id}")
            self.refresh()
        btn.on_click(submit)
        self.summary.objects = [
            pn.pane.HTML("<h4>填写内容 What you entered</h4>" + v.table_html(rows, "kyc-summary-facts"),
                         sizing_mode="stretch_width"),
            pn.pane.HTML("<h4>已上传文件 Documents</h4>" + v.table_html(
                docs, "kyc-summary-docs", ("文件 kind", "版本 version", "文件名 file", "SHA-256")) + todo,
                sizing_mode="stretch_width"),
            btn]

    # ---- agreements (after approval) ----------------------------------------------------------------
    def _render_agreements(self) -> None:
        refs = self.kyc.agreements(self.store, self.case_id)
        if not refs:
            failed = self.kyc.agreements_failure(self.store, self.case_id)
            self.agreements.objects = [pn.pane.HTML(
                '<div class="kyc-warning kyc-agreements-none">协议尚未生成，请稍后再来或联系您的销售 <span class="kyc-en">'
                'the agreements are not issued yet: come back later or ask your sales contact</span></div>'
                + (f'<div class="kyc-meta">{v.esc(failed)}</div>' if failed else ""), sizing_mode="stretch_width")]
            return
        rows, buttons = [], []
        for r in refs:
            path = r.file
            dl = pn.widgets.FileDownload(file=path, filename=f"{r.kind}{'-signed' if r.state == 'signed' else ''}.pdf",
                                         label="下载 Download PDF", button_type="light", width=170,
                                         css_classes=["kyc-agreement-download", f"kyc-agreement-download-{r.kind}"])
            btn = pn.widgets.Button(name="签署 Sign" if r.state == "issued" else "已签署 Signed",
                                    button_type="primary" if r.state == "issued" else "light", width=110,
                                    disabled=r.state != "issued",
                                    css_classes=["kyc-agreement-sign", f"kyc-agreement-sign-{r.kind}"])
            btn.on_click(self._sign_handler([r.kind]))
            buttons.append(btn)
            rows.append(pn.Row(pn.pane.HTML(v.agreement_html(r), sizing_mode="stretch_width"), dl, btn,
                               sizing_mode="stretch_width",
                               css_classes=["kyc-agreement", f"kyc-agreement-{r.state}", f"kyc-agreement-{r.kind}"]))
        todo = [r for r in refs if r.state == "issued"]
        every = pn.widgets.Button(name=f"全部签署 Sign all ({len(todo)})", button_type="success", disabled=not todo,
                                  css_classes=["kyc-agreement-sign-all"])
        every.on_click(self._sign_handler(None))
        self.sign_buttons = [every, *buttons]
        head = ('<div class="kyc-meta">甲方已加盖电子签章。点击“签署”后，平台为贵机构签发一次性事件证书并以电子签名签署，'
                '签署后方可交易。<span class="kyc-en">The firm has sealed each agreement. "Sign" signs it for your '
                'institution with a one-time event certificate; trading starts once all are signed.</span></div>')
        unsigned = self.kyc.unsigned_agreements(self.store, self.case_id)
        tail = ('<div class="kyc-ok kyc-agreements-done">全部协议已签署，可以交易 <span class="kyc-en">every agreement '
                'is signed: trading is open</span></div>' if not unsigned else "")
        self.agreements.objects = [pn.pane.HTML(head, sizing_mode="stretch_width"), *rows, every,
                                   pn.pane.HTML(tail, sizing_mode="stretch_width")]

    def _sign_handler(self, kinds):
        async def handler(_e):
            await self._sign(kinds)
        return handler

    async def _sign(self, kinds) -> None:
        """Sign in a worker thread (pyHanko runs its own event loop, which cannot nest in the server's)."""
        for b in self.sign_buttons:
            b.loading = True
        try:
            done = await asyncio.to_thread(self.kyc.sign_agreements_online, self.store, self.user, kinds)
        except OtcError as e:
            self.notify(False, f"未签署 not signed: {e.message}")
            return
        finally:
            for b in self.sign_buttons:
                b.loading = False
        names = "、".join(r.title for r in done)
        self.notify(True, f"已签署 signed: {names}")
        self._render_agreements()

    def notify(self, ok: bool, message: str) -> None:
        """An outcome in the message bar and as a notification."""
        show_outcome(self.message, ok, message)

    def servable(self):
        return self.layout.servable(title="机构客户开户 KYC")
