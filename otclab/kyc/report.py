"""The review report of an approved case: a Chinese PDF (reportlab, the CJK font the
confirmations use) with the client's facts, the suitability result and its rule references, the
questionnaire, screening hits and their decisions, the AML rating and factors, the documents with
their SHA-256, and every reviewer and time; sealed with the firm's PAdES signature
(``otclab.esign.pdfsign.sign_pdf``), its hash appended to the evidence log and the file stored
with the case (``<KYC files>/reports/<case>.pdf``). ``otclab esign verify`` validates it.

The firm's seal (of the report and of the agreements, ``agreements.py``): ``OTCLAB_KYC_SEAL_KEY``
(PKCS#12 or PEM key), ``OTCLAB_KYC_SEAL_CERT`` (PEM chain for a PEM key),
``OTCLAB_KYC_SEAL_PASSWORD``; without them the ``dealer`` party of a PKI
folder written by ``otclab esign demo-pki`` at ``OTCLAB_KYC_PKI`` (default ``<data>/pki``).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
from pathlib import Path

from sqlalchemy import insert, select

from ..core.errors import OtcError
from ..store import tables_kyc as T
from ..store.db import data_dir, now
from .model import ReportRef
from .paths import files_dir, write_atomic

CST = dt.timezone(dt.timedelta(hours=8))
STATE_ZH = {"draft": "草稿", "submitted": "已提交", "sales_review": "销售审核", "operations_review": "运营审核",
            "compliance_review": "合规审核", "risk_review": "风控审核", "approved": "已通过", "rejected": "已拒绝",
            "returned": "退回补正"}
ROLE_ZH = {"sales": "销售", "operations": "运营", "compliance": "合规", "risk": "风控"}
ACTION_ZH = {"opened": "开立", "saved": "填报", "uploaded": "上传文件", "submit": "提交", "assessed": "自动评估",
             "approve": "通过", "reject": "拒绝", "return": "退回", "hit_decided": "筛查结论", "rescreened": "重新筛查",
             "agreements_failed": "协议未能生成"}


def seal_credentials():
    """The firm's seal credentials (see the module docstring)."""
    from ..esign.pki import load_credentials

    key = os.environ.get("OTCLAB_KYC_SEAL_KEY")
    if key:
        return load_credentials(key, os.environ.get("OTCLAB_KYC_SEAL_CERT"), os.environ.get("OTCLAB_KYC_SEAL_PASSWORD"))
    pki = Path(os.environ.get("OTCLAB_KYC_PKI") or data_dir() / "pki")
    manifest = pki / "pki.json"
    if not manifest.exists():
        raise OtcError(f"no seal for the KYC report and agreements: set OTCLAB_KYC_SEAL_KEY (and _CERT/_PASSWORD), or write a PKI "
                       f"with `otclab esign demo-pki {pki}`", "OTCLAB_KYC_SEAL_KEY")
    m = json.loads(manifest.read_text(encoding="utf-8"))
    party = m["parties"]["dealer"]
    return load_credentials(pki / party["p12"], None, os.environ.get("OTCLAB_KYC_SEAL_PASSWORD") or m.get("pkcs12_password"))


def _t(x) -> str:
    if isinstance(x, dt.datetime):
        return x.astimezone(CST).strftime("%Y-%m-%d %H:%M")
    if isinstance(x, dt.date):
        return x.isoformat()
    if isinstance(x, float):
        return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:g}"
    if isinstance(x, (list, tuple)):
        return "；".join(map(str, x))
    return "" if x is None else str(x)


def render(view) -> bytes:
    """The report PDF's bytes for a ``CaseView``."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    from ..confirm.generate import _font
    from .fields import CLIENT_TYPES, fields_for

    font = _font()
    body = ParagraphStyle("b", fontName=font, fontSize=9, leading=13, wordWrap="CJK")
    h1 = ParagraphStyle("h1", fontName=font, fontSize=16, leading=22, alignment=1)
    h2 = ParagraphStyle("h2", fontName=font, fontSize=11.5, leading=17, spaceBefore=6)

    def P(x):
        return Paragraph(_t(x).replace("&", "&amp;").replace("<", "&lt;"), body)

    def table(rows, widths=None):
        t = Table([[P(c) for c in r] for r in rows], colWidths=widths, repeatRows=1)
        t.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                               ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eaf6")),
                               ("VALIGN", (0, 0), (-1, -1), "TOP")]))
        return t

    v = view
    out = [Paragraph("机构客户准入审核报告", h1),
           P(f"案件编号 {v.case_id} · 交易对手编号 {v.counterparty_id} · 状态 {STATE_ZH.get(v.state, v.state)} · "
             f"生成时间 {_t(now())}（北京时间）"), Spacer(1, 4 * mm), Paragraph("一、客户基本信息", h2)]
    rows = [["项目", "内容"]]
    for f in fields_for(v.client_type):
        if f["name"].startswith("q_"):
            continue
        if f["name"] in v.facts:
            value = v.facts[f["name"]]
            if f["name"] == "client_type":        # the report is read by people: the type's Chinese name
                value = CLIENT_TYPES.get(value, (value,))[0]
            rows.append([f["label_zh"], value])
    out.append(table(rows, [55 * mm, 115 * mm]))
    out.append(Paragraph("二、适当性评估", h2))
    s = v.suitability or {}
    names = {"professional_investor": "专业投资者认定", "otc_counterparty": "场外期权交易对手标准"}
    rows = [["规则", "检查项", "数值", "标准", "结论"]]
    for r in s.get("rules", []):
        for t in r["tests"]:
            rows.append([f"{names.get(r['name'], r['name'])}（{r['rule']}）", t["test"], t["value"],
                         f"{t['op']} {_t(t['threshold'])}", "符合" if t["passed"] else "不符合"])
    out.append(table(rows, [50 * mm, 45 * mm, 28 * mm, 28 * mm, 19 * mm]))
    q = v.questionnaire or {}
    out.append(P(f"风险承受能力问卷得分 {q.get('score')}/{q.get('max')}，评级 C{q.get('c_level')}（{q.get('rule')}）；"
                 f"场外期权、雪球、凤凰、鲨鱼鳍均为 R5 产品，仅 C5 客户可交易。"
                 f"专业投资者：{'是' if s.get('professional') else '否'}；场外期权交易对手：{'符合' if s.get('eligible_otc') else '不符合'}。"
                 + (f"权利金与初始保证金合计上限 {_t(s.get('max_premium'))} 元（产品规模的30%）。" if s.get("max_premium") else "")))
    out.append(Paragraph("三、制裁与负面信息筛查", h2))
    rows = [["筛查对象", "名单条目", "相似度", "结论", "审核人"]]
    dec = {"false_positive": "误报（已排除）", "true_match": "确认命中", None: "待处理"}
    for h in v.hits:
        rows.append([f"{h['subject_role']}: {h['subject_name']}", f"{h['entry_name']}（{h['list_name']} {h['entry_id']}）",
                     h["score"], dec.get(h["decision"], h["decision"]), f"{h['decided_by'] or ''} {h['comment'] or ''}"])
    if len(rows) == 1:
        rows.append(["机构、法定代表人、受益所有人", "无命中", "", "", ""])
    out.append(table(rows, [40 * mm, 55 * mm, 15 * mm, 25 * mm, 35 * mm]))
    a = v.aml or {}
    out.append(Paragraph("四、反洗钱风险等级", h2))
    out.append(P(f"等级：{ {'low': '低', 'medium': '中', 'high': '高'}.get(a.get('level'), a.get('level')) }"
                 f"（{a.get('points')} 分；{a.get('rule')}）"))
    rows = [["因素", "分值"]] + [[f["label"], f["points"]] for f in a.get("factors", [])]
    out.append(table(rows, [120 * mm, 50 * mm]))
    out.append(Paragraph("五、证明文件", h2))
    rows = [["文件", "版本", "文件名", "SHA-256", "上传人/时间"]]
    for d in v.documents:
        rows.append([d.kind, f"v{d.version}", d.filename, d.sha256, f"{d.uploaded_by} {_t(d.uploaded_at)}"])
    out.append(table(rows, [28 * mm, 12 * mm, 35 * mm, 60 * mm, 35 * mm]))
    out.append(Paragraph("六、审核记录", h2))
    rows = [["时间", "动作", "岗位", "状态", "人员", "意见"]]
    for e in v.history:
        if e["action"] == "saved":
            continue
        rows.append([_t(e["at"]), ACTION_ZH.get(e["action"], e["action"]), ROLE_ZH.get(e["role"], e["role"] or ""),
                     f"{STATE_ZH.get(e['from_state'], e['from_state'] or '')}→{STATE_ZH.get(e['to_state'], e['to_state'])}",
                     e["by"], e["comment"] or ""])
    out.append(table(rows, [28 * mm, 20 * mm, 14 * mm, 40 * mm, 28 * mm, 40 * mm]))
    out.append(P(f"填报人：{'、'.join(v.prepared_by)}；邀请人：{v.invited_by}。各岗位审核人：" +
                 "、".join(f"{ROLE_ZH.get(r, r)} {u}" for r, u in v.approvals.items()) + "。本报告由系统根据审核记录自动生成，"
                 "并加盖公司电子签章（PAdES），其哈希值已记入证据日志。"))
    out.append(Spacer(1, 40 * mm))     # room for the visible seal at the foot of the last page
    buf = io.BytesIO()
    SimpleDocTemplate(buf, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm,
                      bottomMargin=16 * mm, title=f"KYC review report {v.case_id}", author="otclab").build(out)
    return buf.getvalue()


def report(store, case_id: str, *, credentials=None, by: str = "system") -> ReportRef:
    """The sealed review report of an approved case (made once; later calls return it)."""
    from ..esign.pdfsign import SealSpec, sign_pdf
    from ..esign.pdfsign.sign import signed_record
    from .cases import view
    from .evidence import append_entry

    with store.connect() as conn:
        row = conn.execute(select(T.kyc_reports).where(T.kyc_reports.c.case_id == case_id)).first()
    if row is not None:
        return ReportRef(case_id, str(files_dir(store) / row.path), row.sha256, row.size, row.signer, row.log_index,
                         row.created_at)
    v = view(store, case_id)
    if v.state != "approved":
        raise OtcError(f"case {case_id} is {v.state}: the review report is made once it is approved", "case_id")
    pdf = render(v)
    cred = credentials or seal_credentials()
    signer = cred.signer()
    sealed = sign_pdf(pdf, signer, field_name="FirmSeal", certify=True,
                      seal=SealSpec(lines=["机构客户准入审核专用章", "%(signer)s", "%(ts)s"]),
                      reason=f"KYC 审核报告 {case_id}", location="上海")
    digest = hashlib.sha256(sealed).hexdigest()
    rel = Path("reports") / f"{case_id}-{digest[:16]}.pdf"
    path = files_dir(store) / rel
    if not path.exists():
        write_atomic(path, sealed)
    rec = signed_record(pdf, sealed, signer, "FirmSeal", True, False)
    receipt = append_entry(store, "kyc.report", {"case_id": case_id, "sha256": digest, "size": len(sealed),
                                                 "path": str(rel), "signature": rec})
    ts = now()
    with store.begin() as conn:
        conn.execute(insert(T.kyc_reports).values(case_id=case_id, path=str(rel), sha256=digest, size=len(sealed),
                                                  signer=rec.get("signer") or "", log_index=receipt.index,
                                                  created_by=by, created_at=ts))
    return ReportRef(case_id, str(path), digest, len(sealed), rec.get("signer") or "", receipt.index, ts)
