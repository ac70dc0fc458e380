"""Formatting for the two KYC pages (``dashboards/kyc_client.py``, ``dashboards/kyc_review.py``):
HTML fragments and labels from what ``otclab.kyc.service`` returns. No KYC rule lives here: the
checks, states, roles' checklists and decisions are the service's; this module only turns them
into text a client or a reviewer reads (Chinese first, English after, smaller). Panel is not
imported here.

Times on screen are China time (UTC+8).
"""
from __future__ import annotations

import datetime as dt
import html
from dataclasses import asdict, is_dataclass

CST = dt.timezone(dt.timedelta(hours=8))

#: the reviewer groups of ``otclab.access.GROUPS``, in the order a case passes them
REVIEW_ROLES = ("sales", "operations", "compliance", "risk")
ROLE_LABELS = {"sales": "销售 Sales", "operations": "运营 Operations", "compliance": "合规 Compliance",
               "risk": "风控 Risk"}
STATE_LABELS = {"draft": "草稿 draft", "submitted": "已提交 submitted", "sales_review": "销售审核 sales review",
                "operations_review": "运营审核 operations review", "compliance_review": "合规审核 compliance review",
                "risk_review": "风控审核 risk review", "approved": "已通过 approved", "rejected": "已拒绝 rejected",
                "returned": "退回补正 returned for correction"}
LEVEL_CLASS = {"ok": "kyc-ok", "warning": "kyc-warning", "error": "kyc-error"}

CSS = """
.kyc-head {font-size:18px; font-weight:600}
.kyc-meta {font-size:12px; color:#556}
.kyc-en {font-size:11px; color:#667; font-weight:normal}
.kyc-check {font-size:13px; min-height:18px; padding-top:2px}
.kyc-ok {color:#2e7d32}
.kyc-warning {color:#b26a00; font-weight:600}
.kyc-error {color:#c62828; font-weight:600}
.kyc-table {border-collapse:collapse; font-size:13px} .kyc-table td, .kyc-table th {border:1px solid #dde; padding:3px 8px;
           vertical-align:top}
.kyc-table th {background:#eef; text-align:left}
.kyc-section {border:1px solid #dde; border-radius:4px; padding:6px 10px; margin:4px 0}
.kyc-focus {border:2px solid #1a237e; background:#f5f7ff; border-radius:4px; padding:6px 10px; margin:4px 0}
.kyc-focus-title {font-size:15px; font-weight:600; color:#1a237e}
.kyc-returned {border-left:4px solid #b26a00; background:#fff8e1; padding:6px 10px}
.kyc-hit {border-left:4px solid #c62828; background:#fff5f5; padding:4px 8px; margin:4px 0}
.kyc-hit-cleared {border-left:4px solid #2e7d32; background:#f1f8e9; padding:4px 8px; margin:4px 0}
.kyc-agreement {border:1px solid #dde; border-radius:4px; padding:6px 10px; margin:4px 0}
.kyc-agreement-signed {border-left:4px solid #2e7d32; background:#f1f8e9}
.kyc-agreement-issued {border-left:4px solid #1a237e; background:#f5f7ff}
body, .bk-root {font-family:"WenQuanYi Zen Hei","Noto Sans CJK SC",sans-serif}
"""


def esc(x) -> str:
    return html.escape("" if x is None else str(x))


def get(obj, name, default=None):
    """``obj.name`` or ``obj[name]`` (the service returns dataclasses; a few parts are dicts)."""
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


def plain(obj):
    """A dataclass (recursively) as dicts and lists, anything else as it is."""
    if is_dataclass(obj) and not isinstance(obj, type):
        return asdict(obj)
    return obj


def label_html(zh: str, en: str | None = None, required: bool = False, help: str | None = None) -> str:
    """A bilingual label: Chinese first, English after in smaller text; a required field starred;
    the field's hint (``FORM``'s help) below."""
    star = ' <span class="kyc-error">*</span>' if required else ""
    return (f'{esc(zh)}{star}' + (f' <span class="kyc-en">{esc(en)}</span>' if en else "")
            + (f'<br><span class="kyc-en kyc-help">{esc(help)}</span>' if help else ""))


def check_html(check) -> str:
    """One field's check beside it: the message in red (error) or amber (warning), a green tick
    for a value that is fine, nothing for an empty optional field."""
    if check is None:
        return ""
    level, message = get(check, "level"), get(check, "message") or ""
    cls = LEVEL_CLASS.get(level, "kyc-meta")
    if level == "ok":
        return f'<span class="{cls} kyc-check-level" data-level="ok">✓ {esc(message)}</span>'
    return f'<span class="{cls} kyc-check-level" data-level="{esc(level)}">{esc(message)}</span>'


def cst_text(t) -> str:
    """An aware time (or ISO text) as China time ``YYYY-MM-DD HH:MM:SS``."""
    if t is None or t == "":
        return ""
    if isinstance(t, str):
        try:
            t = dt.datetime.fromisoformat(t)
        except ValueError:
            return t
    if isinstance(t, dt.datetime):
        if t.tzinfo is None:
            t = t.replace(tzinfo=dt.timezone.utc)
        return t.astimezone(CST).strftime("%Y-%m-%d %H:%M:%S")
    return str(t)


def size_text(n) -> str:
    """Bytes as B / KB / MB (1024-based), for the document list."""
    n = int(n or 0)
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KB"
    return f"{n / 1024 / 1024:.1f} MB"


def table_html(rows, css: str, header=None) -> str:
    """Rows (sequences of cells, already text) as an HTML table; cells are escaped."""
    head = "<tr>" + "".join(f"<th>{esc(h)}</th>" for h in header) + "</tr>" if header else ""
    body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f'<table class="kyc-table {css}">{head}{body}</table>'


def document_html(ref) -> str:
    """An uploaded document: its version, SHA-256 (the full digest, as logged), size and name."""
    sha = get(ref, "sha256") or ""
    return (f'<span class="kyc-ok kyc-doc-ok">✓ 第 {esc(get(ref, "version"))} 版 version '
            f'{esc(get(ref, "version"))}</span> · <span class="kyc-doc-name">{esc(get(ref, "filename"))}</span> · '
            f'{esc(size_text(get(ref, "size")))}<br><span class="kyc-meta">SHA-256 '
            f'<code class="kyc-doc-sha">{esc(sha)}</code></span>')


def refusal_html(message: str) -> str:
    return f'<span class="kyc-error kyc-refusal">✗ {esc(message)}</span>'


def reviewer_roles(identity) -> list[str]:
    """The reviewer roles an identity holds (its groups among sales, operations, compliance,
    risk, in the order a case passes them)."""
    groups = set(get(identity, "groups") or ())
    return [r for r in REVIEW_ROLES if r in groups]


def choice_label(c) -> str:
    """A choice of ``FORM`` as the select shows it: ``(value, zh, en)``, ``{"value", "label",
    "label_en"}`` or a plain value."""
    if isinstance(c, (tuple, list)):
        return " ".join(str(x) for x in c[1:] if x) or str(c[0])
    if isinstance(c, dict) or hasattr(c, "value"):
        zh, en = get(c, "label"), get(c, "label_en")
        return " ".join(x for x in (zh, en) if x) or str(get(c, "value"))
    return str(c)


def choice_value(c):
    """The value a choice stores (see ``choice_label``)."""
    if isinstance(c, (tuple, list)):
        return c[0]
    if isinstance(c, dict) or hasattr(c, "value"):
        return get(c, "value")
    return c


def field_text(value) -> str:
    """A saved (typed) value as the form's input shows it: a date ISO, a whole amount without
    decimals, nothing for None."""
    if value is None:
        return ""
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:.0f}" if value.is_integer() else f"{value:g}"
    return str(value)


# ---- the reviewer's case view -------------------------------------------------------------------
HIT_ROLES = {"institution": "机构 institution", "manager": "管理人 manager", "legal_rep": "法定代表人 legal rep.",
             "owner": "受益所有人 beneficial owner"}
DECISIONS = {"false_positive": "误报（已排除）false positive", "true_match": "确认命中 true match",
             None: "待决定 open"}
AML_LEVELS = {"low": "低 low", "medium": "中 medium", "high": "高 high"}


def value_text(value) -> str:
    """A typed fact for a reviewer: lists joined, amounts with thousands separators."""
    if isinstance(value, (list, tuple)):
        return "；".join(str(x) for x in value)
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() else f"{value:,.2f}"
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10_000:
        return f"{value:,}"
    return field_text(value)


IDENTITY_FIELDS = ("name", "uscc", "client_type", "registered_address", "established", "legal_rep_name",
                   "legal_rep_id", "manager_name")
PEOPLE_FIELDS = ("legal_rep_name", "authorised_traders", "beneficial_owners")
VALIDITY_FIELDS = ("license_valid_until", "legal_rep_id_valid_until", "established")


def facts_html(view, form, steps: tuple[str, ...], only: tuple[str, ...] | None = None) -> str:
    """The facts of ``steps`` (FORM order; ``only`` those fields) with each field's check where it
    is not plain ok."""
    facts, checks = get(view, "facts") or {}, get(view, "checks") or {}
    ct = get(view, "client_type")
    rows = []
    for s in form:
        if s["name"] not in steps:
            continue
        for f in s["fields"]:
            if f["client_types"] and ct and ct not in f["client_types"]:
                continue
            if only is not None and f["name"] not in only:
                continue
            chk = checks.get(f["name"])
            note = check_html(chk) if chk and get(chk, "level") != "ok" else ""
            value = facts.get(f["name"])
            shown = next((c[1] for c in f["choices"] or [] if c[0] == value), None) or value_text(value)
            rows.append(f'<tr class="kyc-fact-{esc(f["name"])}"><th>{esc(f["label_zh"])} <span class="kyc-en">'
                        f'{esc(f["label_en"])}</span></th><td>{esc(shown)}</td>'
                        f'<td>{note}</td></tr>')
    return f'<table class="kyc-table kyc-facts">{"".join(rows)}</table>'


def relationship_html(view) -> str:
    """Who invited the client, who entered the data, the counterparty id booking will use."""
    rows = [("邀请人 invited by", get(view, "invited_by")), ("客户账号 client login", get(view, "username")),
            ("填报人 prepared by", "、".join(get(view, "prepared_by") or [])),
            ("交易对手编号 counterparty id", get(view, "counterparty_id")),
            ("本轮已通过 approved this round", "、".join(f"{ROLE_LABELS.get(r, r)}: {u}"
                                                   for r, u in (get(view, "approvals") or {}).items()))]
    return table_html(rows, "kyc-relationship")


def documents_html(view) -> str:
    """Every stored version of every document: kind, version, file, type, size, SHA-256, who and
    when; the newest version of each kind first."""
    labels = {d["kind"]: f'{d["label_zh"]} {d["label_en"]}' for d in get(view, "required_documents") or []}
    docs = sorted(get(view, "document_versions") or get(view, "documents") or [],
                  key=lambda d: (d.kind, -d.version))
    rows = "".join(
        f'<tr class="kyc-doc-row" data-kind="{esc(d.kind)}" data-version="{d.version}"><td>{esc(labels.get(d.kind, d.kind))}'
        f'</td><td>v{d.version}</td><td>{esc(d.filename)}</td><td>{esc(d.content_type)}</td><td>{esc(size_text(d.size))}'
        f'</td><td><code class="kyc-doc-sha">{esc(d.sha256)}</code></td><td>{esc(d.uploaded_by)}, '
        f'{esc(cst_text(d.uploaded_at))}</td><td>{esc(field_text(d.valid_until))}</td></tr>' for d in docs)
    missing = get(view, "missing") or []
    miss = ("" if not missing else '<div class="kyc-warning">缺少 missing: ' + esc("；".join(map(str, missing))) + "</div>")
    return ('<table class="kyc-table kyc-documents"><tr><th>文件 kind</th><th>版本</th><th>文件名 file</th><th>类型 type'
            '</th><th>大小 size</th><th>SHA-256</th><th>上传 uploaded</th><th>有效期至 valid until</th></tr>'
            f'{rows}</table>{miss}')


def _op(op: str) -> str:
    return {">=": "≥", "<=": "≤", "==": "="}.get(op, op)


def suitability_html(view) -> str:
    """Each rule's tests (value against threshold), its citation, and the outcome; the
    questionnaire's score and C-level."""
    s = get(view, "suitability") or {}
    q = get(view, "questionnaire") or {}
    parts = [c_level_html(view)] if q else []
    names = {"professional_investor": "专业投资者 professional investor",
             "otc_counterparty": "场外期权交易对手 OTC-option counterparty"}
    for r in s.get("rules") or []:
        tests = "".join(f'<tr><td>{esc(t["test"])}</td><td>{esc(value_text(t["value"]))}</td><td>{_op(t["op"])} '
                        f'{esc(value_text(t["threshold"]))}</td><td class="{"kyc-ok" if t["passed"] else "kyc-error"}">'
                        f'{"✓" if t["passed"] else "✗"}</td></tr>' for t in r.get("tests") or [])
        verdict = ('<b class="kyc-ok">符合 met</b>' if r.get("passed") else '<b class="kyc-error">不符合 not met</b>')
        parts.append(f'<div class="kyc-rule" data-rule="{esc(r.get("name"))}">{esc(names.get(r.get("name"), r.get("name")))}'
                     f': {verdict} · <span class="kyc-rule-ref">{esc(r.get("rule"))}</span>'
                     f'<table class="kyc-table">{tests}</table></div>')
    if s.get("max_premium") is not None:
        parts.append(f'<div>权利金与初始保证金上限 premium + initial margin at most '
                     f'{esc(value_text(s["max_premium"]))} 元</div>')
    if s.get("rules_version"):
        parts.append(f'<div class="kyc-meta">rules.toml SHA-256 {esc(s["rules_version"])}</div>')
    return "".join(parts) or '<div class="kyc-meta">未评估 not assessed yet</div>'


def hit_html(hit) -> str:
    """One screening hit: who was screened, the list entry matched, the score, the decision."""
    decision = hit.get("decision")
    cls = "kyc-hit-cleared" if decision == "false_positive" else "kyc-hit"
    who = f'{HIT_ROLES.get(hit.get("subject_role"), hit.get("subject_role"))} {hit.get("subject_name")}'
    topics = ", ".join(hit.get("topics") or [])
    by = f' · {esc(hit.get("decided_by"))}' if hit.get("decided_by") else ""
    comment = f' · “{esc(hit.get("comment"))}”' if hit.get("comment") else ""
    return (f'<div class="{cls} kyc-hit-row" data-hit="{esc(hit.get("hit_id"))}"><b>{esc(who)}</b> ↔ '
            f'<b class="kyc-hit-entry">{esc(hit.get("entry_name"))}</b> <span class="kyc-meta">({esc(hit.get("list_name"))}'
            f' · {esc(hit.get("entry_id"))} · {esc(hit.get("schema"))}{" · " + esc(topics) if topics else ""})</span> · '
            f'相似度 score <b class="kyc-hit-score">{esc(hit.get("score"))}</b> · <span class="kyc-hit-decision">'
            f'{esc(DECISIONS.get(decision, decision))}</span>{by}{comment}</div>')


def aml_html(view) -> str:
    """The AML rating, its points and the factors that gave them, with the rule cited."""
    a = get(view, "aml")
    if not a:
        return '<div class="kyc-meta">未评级 not rated yet</div>'
    rows = "".join(f'<tr><td>{esc(f["label"])}</td><td>{esc(f["points"])}{" (决定性 decisive)" if f.get("decisive") else ""}'
                   f'</td></tr>' for f in a.get("factors") or [])
    level = a.get("level")
    cls = {"low": "kyc-ok", "medium": "kyc-warning", "high": "kyc-error"}.get(level, "")
    return (f'<div>反洗钱风险等级 AML rating: <b class="{cls} kyc-aml-level" data-level="{esc(level)}">'
            f'{esc(AML_LEVELS.get(level, level))}</b> ({esc(a.get("points"))} 分 points; 中 ≥ {esc(a.get("medium_min"))}, '
            f'高 ≥ {esc(a.get("high_min"))}) <span class="kyc-en">{esc(a.get("rule"))}</span></div>'
            f'<table class="kyc-table kyc-aml-factors"><tr><th>因素 factor</th><th>分 points</th></tr>{rows}</table>')


def history_html(view) -> str:
    rows = [(cst_text(h.get("at")), h.get("action"), ROLE_LABELS.get(h.get("role"), h.get("role") or ""),
             f'{h.get("from_state") or ""} → {h.get("to_state") or ""}', h.get("by"), h.get("comment") or "")
            for h in get(view, "history") or []]
    return table_html(rows, "kyc-history", ("时间 time", "动作 action", "岗位 role", "状态 state", "人 by", "意见 comment"))


def c_level_html(view) -> str:
    """The questionnaire's C-level and score, against R5 (every OTC option: rules.toml [products])."""
    q = get(view, "questionnaire") or {}
    if not q:
        return '<div class="kyc-meta">问卷未评分 questionnaire not scored yet</div>'
    ok = q.get("c_level") == 5
    verdict = ('<span class="kyc-ok">可交易 R5 场外期权 may trade R5 OTC options</span>' if ok else
               f'<span class="kyc-error">C{esc(q.get("c_level"))} 低于 R5：不可交易场外期权 below R5: no OTC options</span>')
    return (f'<div class="kyc-c-level">风险承受能力 risk tolerance: <b class="kyc-c-level-value">C{esc(q.get("c_level"))}'
            f'</b> (问卷得分 score {esc(q.get("score"))}/{esc(q.get("max"))}) · {verdict} <span class="kyc-en">'
            f'{esc(q.get("rule"))}</span></div>')


def limits_html(view) -> str:
    """What limits the client's trading: an asset-management product's premium + margin cap."""
    s = get(view, "suitability") or {}
    if s.get("max_premium") is not None:
        return (f'<div class="kyc-limit">权利金+初始保证金上限 premium + initial margin at most '
                f'<b>{esc(value_text(s["max_premium"]))}</b> 元 ({esc(s.get("premium_margin_max_fraction"))} of the '
                f'product)</div>')
    return '<div class="kyc-meta">无产品规模上限（非资管产品）no product cap (not an asset-management product)</div>'


def focus_keys(checks, sections) -> list[str]:
    """The section keys a role checks first (``CHECKS_BY_ROLE[role]``, in its order), those the
    view has."""
    return [c["key"] for c in checks or [] if c["key"] in sections]


def checklist_html(role: str | None, checks) -> str:
    """The role's checklist, at the top of the case view."""
    if not role:
        return ""
    items = "".join(f'<li data-check="{esc(c["key"])}">{esc(c["label_zh"])} <span class="kyc-en">{esc(c["label_en"])}'
                    f'</span></li>' for c in checks or [])
    return (f'<div class="kyc-focus-title">{esc(ROLE_LABELS.get(role, role))} 本岗审核要点 <span class="kyc-en">what '
            f'you check</span></div><ol class="kyc-checklist">{items}</ol>')


def queue_row_html(r) -> str:
    """One line of a reviewer's queue (a ``CaseSummary``)."""
    hits = (f' · <span class="kyc-error">{r.open_hits} 条筛查待定 open hit(s)</span>' if r.open_hits else "")
    aml = f' · AML {esc(AML_LEVELS.get(r.aml_level, r.aml_level))}' if r.aml_level else ""
    ct = f' · {esc(r.client_type)}' if r.client_type else ""
    return (f'<span class="kyc-queue-row" data-case="{esc(r.case_id)}"><b>{esc(r.institution)}</b> · {esc(r.case_id)} · '
            f'USCC {esc(r.uscc)}{ct}{aml}{hits} · 等待自 waiting since {esc(cst_text(r.waiting_since))}</span>')


AGREEMENT_STATES = {"issued": "待签署 to sign", "signed": "已签署 signed"}


def agreement_html(ref) -> str:
    """One agreement of the client's agreements step: title, state, the SHA-256 of the firm's
    sealed copy and, once signed, of the signed copy, the signer and the time."""
    state = get(ref, "state")
    out = (f'<div class="kyc-agreement-title"><b>{esc(get(ref, "title"))}</b> · <span class="kyc-agreement-state '
           f'{"kyc-ok" if state == "signed" else "kyc-warning"}" data-state="{esc(state)}">'
           f'{esc(AGREEMENT_STATES.get(state, state))}</span>'
           + ("" if get(ref, "required") else ' <span class="kyc-en">(optional 非必签)</span>') + "</div>"
           f'<div class="kyc-meta">甲方已盖章 sealed by the firm {esc(cst_text(get(ref, "issued_at")))} · SHA-256 '
           f'<code class="kyc-agreement-issued-sha">{esc(get(ref, "issued_sha256"))}</code></div>')
    if state == "signed":
        out += (f'<div class="kyc-meta">乙方签署 signed by <span class="kyc-agreement-signer">'
                f'{esc(get(ref, "signer_subject"))}</span> ({esc(get(ref, "signed_by"))}, '
                f'{esc(cst_text(get(ref, "signed_at")))}) · SHA-256 <code class="kyc-agreement-signed-sha">'
                f'{esc(get(ref, "signed_sha256"))}</code></div>')
    return out
