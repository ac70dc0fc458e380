"""The onboarding case: the client's draft, submission (suitability, screening, AML rating), the
reviewers' steps with four-eyes, hit decisions, and what each view shows.

States: draft → submitted → sales_review → operations_review → compliance_review → risk_review →
approved, or rejected, or returned (for correction: the client edits and resubmits, and the
review starts again at sales). Each reviewer acts only at their own step (the role comes from
the identity's groups, ``otclab.access``, and needs the scope KYC_REVIEW); nobody approves a
case they prepared (entered data or documents into) or already approved at an earlier step of
the same round. Every change is a ``kyc_events`` row committed with it and then appended to the
evidence log (``evidence.catch_up``).
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import func, insert, select, update

from ..access import KYC_REVIEW, AccessDenied
from ..core.errors import OtcError
from ..store import tables_kyc as T
from ..store.db import now
from . import rules as R
from .documents import documents
from .evidence import add_event, catch_up
from .fields import FIELDS, STEPS, Check, check_field, fields_for, parse_value, required_documents
from .model import CaseSummary, CaseView

STATES = ("draft", "submitted", "sales_review", "operations_review", "compliance_review", "risk_review",
          "approved", "rejected", "returned")
ROLE_STEP = {"sales": "sales_review", "operations": "operations_review", "compliance": "compliance_review",
             "risk": "risk_review"}
STEP_ROLE = {v: k for k, v in ROLE_STEP.items()}
NEXT = {"sales_review": "operations_review", "operations_review": "compliance_review",
        "compliance_review": "risk_review", "risk_review": "approved"}
EDITABLE = ("draft", "returned")
ACTIONS = ("approve", "reject", "return")

#: What each reviewer role checks first (sections of the case, in the order the view shows them).
CHECKS_BY_ROLE = {
    "sales": [
        {"key": "institution", "label_zh": "机构身份与基本信息", "label_en": "identity of the institution"},
        {"key": "relationship", "label_zh": "客户关系（邀请人、填报人、交易对手编号）", "label_en": "relationship"},
        {"key": "traders", "label_zh": "授权交易人员", "label_en": "authorised traders"},
    ],
    "operations": [
        {"key": "documents", "label_zh": "证明文件齐备、与填报信息一致", "label_en": "documents complete and consistent"},
        {"key": "validity", "label_zh": "证件有效期", "label_en": "validity of licence and ID"},
    ],
    "compliance": [
        {"key": "suitability", "label_zh": "适当性（专业投资者、场外期权交易对手标准）", "label_en": "suitability"},
        {"key": "screening", "label_zh": "制裁与负面信息筛查", "label_en": "sanctions and negative-news screening"},
        {"key": "aml", "label_zh": "反洗钱风险等级", "label_en": "AML rating"},
    ],
    "risk": [
        {"key": "questionnaire", "label_zh": "风险承受能力等级与产品风险等级匹配", "label_en": "C-level vs products (R5)"},
        {"key": "limits", "label_zh": "财务实力与交易限额（资管产品30%上限）", "label_en": "financial strength and limits"},
    ],
}


class CaseError(OtcError):
    """An action the case's state or the four-eyes rule does not allow."""


class SubmitRefused(OtcError):
    """A submission with missing or invalid items; ``items`` lists every one."""

    def __init__(self, items: list[str]):
        self.items = items
        super().__init__(f"cannot submit: {len(items)} item(s) missing or invalid: " + "; ".join(items), "case")


def _case(conn, case_id: str):
    row = conn.execute(select(T.kyc_cases).where(T.kyc_cases.c.case_id == case_id)).first()
    if row is None:
        raise CaseError(f"no KYC case {case_id!r}", "case_id")
    return row


def editable_case(conn, case_id: str, by: str):
    """The case row, if it may be edited now (draft or returned for correction)."""
    row = _case(conn, case_id)
    if row.state not in EDITABLE:
        raise CaseError(f"case {case_id} is {row.state}: it can be changed only as a draft or when returned "
                        "for correction", "case_id")
    if not by or not str(by).strip():
        raise CaseError("is required (who makes the change)", "by")
    return row


def _set_state(conn, case_id: str, state: str) -> None:
    conn.execute(update(T.kyc_cases).where(T.kyc_cases.c.case_id == case_id).values(state=state))


# ---- the draft -------------------------------------------------------------------------------
def raw_values(conn, case_id: str) -> dict:
    """{field: (value as entered, level, message)} the latest saved of each field."""
    v = T.kyc_values
    last = select(func.max(v.c.id)).where(v.c.case_id == case_id).group_by(v.c.field)
    return {r.field: (r.value, r.level, r.message)
            for r in conn.execute(select(v).where(v.c.id.in_(last.scalar_subquery())))}


def typed_values(raw: dict) -> dict:
    """The typed values of the fields whose saved value passed its check (error-level ones omitted)."""
    out = {}
    for name, (value, level, _) in raw.items():
        if level == "error" or name not in FIELDS:
            continue
        try:
            out[name] = parse_value(name, value)
        except (ValueError, TypeError):
            continue
    return out


def save_section(store, case_id: str, step: str, values: dict, by: str) -> dict[str, Check]:
    """Persist the values of one form step (draft or returned case) and return each field's check.
    A value failing its check is stored with its error (so the client sees it again) and does not
    count as valid: the case cannot be submitted until it is corrected."""
    if step not in STEPS:
        raise CaseError(f"unknown step {step!r}; allowed: {', '.join(STEPS)}", "step")
    if not isinstance(values, dict):
        raise CaseError("values must be a mapping of field name to value", "values")
    names = {f["name"] for f in fields_for(None, step)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise CaseError(f"unknown field(s) {', '.join(unknown)} for step {step}; allowed: {', '.join(sorted(names))}",
                        "values")
    with store.begin() as conn:
        row = editable_case(conn, case_id, by)
        raw = raw_values(conn, case_id)
        ct = values.get("client_type") or (raw.get("client_type") or (None,))[0]
        checks, rows, ts = {}, [], now()
        for name, value in values.items():
            chk = check_field(name, value, client_type=ct)
            checks[name] = chk
            if isinstance(value, (dt.date, dt.datetime)):
                value = value.isoformat()
            rows.append({"case_id": case_id, "step": step, "field": name, "value": value, "level": chk.level,
                         "message": chk.message, "saved_by": by, "saved_at": ts})
        if rows:
            conn.execute(insert(T.kyc_values), rows)
        add_event(conn, case_id, "saved", by, row.state, from_state=row.state,
                  details={"step": step, "fields": sorted(values),
                           "errors": sorted(k for k, c in checks.items() if c.level == "error")})
    catch_up(store)
    return checks


def _missing(conn, case_id: str, raw: dict, typed: dict) -> list[str]:
    ct = typed.get("client_type")
    out = []
    for f in fields_for(ct):
        got = raw.get(f["name"])
        if got is not None and got[1] == "error":
            out.append(f"{f['label_zh']} / {f['label_en']}: {got[2]}")
        elif f["required"] and f["name"] not in typed:
            out.append(f"{f['label_zh']} / {f['label_en']}: 必填 / required")
    have = {d.kind for d in documents(conn, case_id)}
    for d in required_documents(ct):
        if d["kind"] not in have:
            out.append(f"{d['label_zh']} / {d['label_en']}: 未上传 / document missing")
    return out


# ---- submission --------------------------------------------------------------------------------
def _assess(conn, case_id: str, typed: dict, by: str, lists) -> dict:
    """Suitability, questionnaire, screening and AML for the case; rows appended."""
    from .screen import screen_case

    ts, version = now(), R.rules_version()
    suit = R.suitability(typed)
    quest = R.questionnaire(typed)
    hits = screen_case(conn, case_id, typed, by, lists)
    aml = R.aml_rating(typed, hits)
    conn.execute(insert(T.kyc_assessments), [
        {"case_id": case_id, "kind": k, "result": _jsonable(v), "rules_version": version, "at": ts}
        for k, v in (("suitability", suit), ("questionnaire", quest), ("aml", aml))])
    return {"suitability": suit, "questionnaire": quest, "aml": aml, "hits": len(hits)}


def _jsonable(v):
    if isinstance(v, dict):
        return {k: _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    return v


def submit(store, case_id: str, by: str) -> str:
    """Submit the case: refused with every missing or invalid item listed; otherwise suitability,
    screening and the AML rating run and the case moves to sales review. Returns the new state."""
    from .screen import current_lists

    lists = current_lists(store)
    with store.begin() as conn:
        row = editable_case(conn, case_id, by)
        raw = raw_values(conn, case_id)
        typed = typed_values(raw)
        missing = _missing(conn, case_id, raw, typed)
        if missing:
            raise SubmitRefused(missing)
        add_event(conn, case_id, "submit", by, "submitted", from_state=row.state)
        result = _assess(conn, case_id, typed, by, lists)
        add_event(conn, case_id, "assessed", "system", "sales_review", from_state="submitted",
                  details={"eligible_otc": result["suitability"]["eligible_otc"],
                           "professional": result["suitability"]["professional"],
                           "c_level": result["questionnaire"]["c_level"], "aml": result["aml"]["level"],
                           "hits": result["hits"], "rules_version": R.rules_version()})
        _set_state(conn, case_id, "sales_review")
    catch_up(store)
    return "sales_review"


# ---- reviewers --------------------------------------------------------------------------------
def _round_events(conn, case_id: str) -> list:
    e = T.kyc_events
    rows = conn.execute(select(e).where(e.c.case_id == case_id).order_by(e.c.seq)).all()
    start = max((i for i, r in enumerate(rows) if r.action == "submit"), default=0)
    return rows[start:]


def preparers(conn, case_id: str) -> list[str]:
    """Who entered the case's data or documents (and the client user it belongs to)."""
    case = _case(conn, case_id)
    e = T.kyc_events
    who = {r for (r,) in conn.execute(select(e.c.by).where(e.c.case_id == case_id,
                                                            e.c.action.in_(("saved", "uploaded", "submit"))))}
    who.add(case.username)
    return sorted(who)


def approvals(conn, case_id: str) -> dict:
    """{role: user} who approved at each step of the current round."""
    return {r.role: r.by for r in _round_events(conn, case_id) if r.action == "approve"}


def _role_for(identity, state: str) -> str:
    step_role = STEP_ROLE.get(state)
    if step_role is None:
        raise CaseError(f"the case is {state}: no review step is waiting", "case_id")
    if step_role not in identity.groups:
        raise AccessDenied(f"{identity.name} may not act at {state}: it is the {step_role} step (the user's "
                           f"groups: {', '.join(sorted(identity.groups)) or 'none'})", "user")
    return step_role


def latest_assessment(conn, case_id: str, kind: str):
    a = T.kyc_assessments
    return conn.execute(select(a.c.result).where(a.c.case_id == case_id, a.c.kind == kind)
                        .order_by(a.c.id.desc()).limit(1)).scalar()


def act(store, case_id: str, action: str, identity, comment: str | None = None) -> str:
    """A reviewer's decision at the case's current step: approve (to the next step, or approved
    after risk), reject (final) or return (for correction; a comment says what). Needs the scope
    KYC_REVIEW and the group of the current step; four-eyes. The final approval issues the
    agreements the client signs next (``agreements.issue_after_approval``: if that fails, the
    approval stands and the case's history says why). Returns the new state."""
    from .clients import record_client
    from .screen import current_hits

    identity.require(KYC_REVIEW, "review KYC cases")
    if action not in ACTIONS:
        raise CaseError(f"unknown action {action!r}; allowed: {', '.join(ACTIONS)}", "action")
    comment = (comment or "").strip() or None
    if action in ("reject", "return") and not comment:
        raise CaseError(f"a {action} needs a comment saying why" + (" and what to correct" if action == "return" else ""),
                        "comment")
    with store.begin() as conn:
        case = _case(conn, case_id)
        role = _role_for(identity, case.state)
        if action == "approve":
            if identity.name in preparers(conn, case_id):
                raise CaseError(f"four-eyes: {identity.name} prepared case {case_id} and may not approve it", "user")
            done = approvals(conn, case_id)
            earlier = [r for r, u in done.items() if u == identity.name]
            if earlier:
                raise CaseError(f"four-eyes: {identity.name} already approved case {case_id} at the {earlier[0]} step; "
                                "another reviewer must approve this one", "user")
            if role == "compliance":
                hits = current_hits(conn, case_id)
                open_ = [h for h in hits if h["decision"] is None]
                if open_:
                    raise CaseError(f"{len(open_)} screening hit(s) are not decided yet (first: {open_[0]['subject_name']}"
                                    f" ↔ {open_[0]['entry_name']}, score {open_[0]['score']}); decide each first", "hits")
                if any(h["decision"] == "true_match" for h in hits):
                    raise CaseError("a screening hit is a true match: the case cannot be approved (reject it)", "hits")
                suit = latest_assessment(conn, case_id, "suitability") or {}
                if not suit.get("eligible_otc"):
                    failed = [t["test"] for r in suit.get("rules", []) if r["name"] == "otc_counterparty"
                              for t in r["tests"] if not t["passed"]]
                    raise CaseError("the client does not meet the OTC-option counterparty standard ("
                                    + "; ".join(failed) + "): reject or return the case", "suitability")
            new = NEXT[case.state]
        else:
            new = "rejected" if action == "reject" else "returned"
        add_event(conn, case_id, action, identity.name, new, from_state=case.state, role=role, comment=comment)
        _set_state(conn, case_id, new)
        if new == "approved":
            _onboard(conn, case, identity.name, record_client)
    catch_up(store)
    if new == "approved":              # the client signs them next; a failure leaves the approval standing
        from .agreements import issue_after_approval

        issue_after_approval(store, case_id, identity.name)
    return new


def _onboard(conn, case, by: str, record_client) -> None:
    """The approved case's client-master row: status approved, C-level, review date today."""
    typed = typed_values(raw_values(conn, case.case_id))
    suit = latest_assessment(conn, case.case_id, "suitability") or {}
    quest = latest_assessment(conn, case.case_id, "questionnaire") or {}
    valid = [typed.get("license_valid_until"), typed.get("legal_rep_id_valid_until")]
    valid += [d.valid_until for d in documents(conn, case.case_id)]
    valid = [v for v in valid if isinstance(v, dt.date)]
    record_client(conn, counterparty_id=case.counterparty_id, name=typed.get("name") or case.institution,
                  uscc=case.uscc, status="approved", c_level=int(quest.get("c_level") or 1),
                  eligible_otc=bool(suit.get("eligible_otc")), review_date=dt.date.today(),
                  docs_valid_until=min(valid) if valid else None, max_premium=suit.get("max_premium"),
                  case_id=case.case_id, source="case", recorded_by=by)


def decide_hit(store, case_id: str, hit_id: int, decision: str, by: str, comment: str | None = None) -> dict:
    """A reviewer's decision on a screening hit: ``false_positive`` (cleared; remembered for that
    (screened name, list entry) pair, so a later screening does not raise it again) or
    ``true_match``. The AML rating is recomputed. Returns the hit."""
    from .screen import current_hits, decide

    if decision not in ("false_positive", "true_match"):
        raise CaseError(f"decision must be false_positive or true_match; got {decision!r}", "decision")
    comment = (comment or "").strip()
    if not comment:
        raise CaseError("a hit decision needs a comment (why it is or is not the listed party)", "comment")
    with store.begin() as conn:
        case = _case(conn, case_id)
        if case.state not in STEP_ROLE and case.state != "approved":
            raise CaseError(f"the case is {case.state}: hits are decided during review", "case_id")
        if by in preparers(conn, case_id):
            raise CaseError(f"four-eyes: {by} prepared case {case_id} and may not decide its screening hits", "by")
        hit = decide(conn, case_id, int(hit_id), decision, by, comment)
        typed = typed_values(raw_values(conn, case_id))
        aml = R.aml_rating(typed, current_hits(conn, case_id))
        conn.execute(insert(T.kyc_assessments).values(case_id=case_id, kind="aml", result=_jsonable(aml),
                                                      rules_version=R.rules_version(), at=now()))
        add_event(conn, case_id, "hit_decided", by, case.state, from_state=case.state, comment=comment,
                  details={"hit_id": int(hit_id), "decision": decision, "entry_id": hit["entry_id"],
                           "subject_name": hit["subject_name"], "score": hit["score"], "aml": aml["level"]})
        if case.state == "approved":
            _after_rescreen_decision(conn, case, by)
    catch_up(store)
    return hit


def _after_rescreen_decision(conn, case, by: str) -> None:
    """An approved client suspended by a rescreening hit: a true match keeps it suspended (with that
    reason); once every new hit is cleared, trading resumes (a new approved row)."""
    from .clients import _latest, record_client
    from .screen import current_hits

    cur = _latest(conn, [case.counterparty_id]).get(case.counterparty_id)
    if cur is None or cur.case_id != case.case_id:
        return
    hits = current_hits(conn, case.case_id)
    keep = dict(counterparty_id=cur.counterparty_id, name=cur.name, uscc=cur.uscc, c_level=cur.c_level,
                eligible_otc=bool(cur.eligible_otc), review_date=cur.review_date, docs_valid_until=cur.docs_valid_until,
                max_premium=cur.max_premium, case_id=case.case_id, recorded_by=by)
    true = [h for h in hits if h["decision"] == "true_match"]
    if true:
        if cur.status != "suspended" or not (cur.reason or "").startswith("screening: true match"):
            record_client(conn, status="suspended", source="suspend",
                          reason=f"screening: true match {true[0]['entry_name']} ({true[0]['entry_id']})", **keep)
    elif cur.status == "suspended" and (cur.reason or "").startswith("new screening hit") \
            and not any(h["decision"] is None for h in hits):
        record_client(conn, status="approved", source="case", reason="screening hits cleared", **keep)


# ---- what the views show ------------------------------------------------------------------------
def queue(store, role: str) -> list[CaseSummary]:
    """The cases waiting for ``role``'s step, oldest first."""
    from .screen import current_hits

    if role not in ROLE_STEP:
        raise CaseError(f"unknown reviewer role {role!r}; allowed: {', '.join(ROLE_STEP)}", "role")
    c, e = T.kyc_cases, T.kyc_events
    out = []
    with store.connect() as conn:
        for row in conn.execute(select(c).where(c.c.state == ROLE_STEP[role]).order_by(c.c.created_at)):
            since = conn.execute(select(func.max(e.c.at)).where(e.c.case_id == row.case_id)).scalar()
            typed = typed_values(raw_values(conn, row.case_id))
            aml = latest_assessment(conn, row.case_id, "aml") or {}
            hits = current_hits(conn, row.case_id)
            out.append(CaseSummary(row.case_id, typed.get("name") or row.institution, row.uscc, row.counterparty_id,
                                   typed.get("client_type"), row.state, since, aml.get("level"),
                                   sum(1 for h in hits if h["decision"] is None)))
    out.sort(key=lambda s: s.waiting_since)
    return out


def view(store, case_id: str) -> CaseView:
    """Everything about the case (see ``model.CaseView``; ``extra["agreements"]``: its agreements
    as ``agreements.AgreementRef.to_dict``)."""
    from .agreements import _ref as _ag_ref
    from .agreements import _rows as _ag_rows
    from .clients import client_status
    from .screen import current_hits

    with store.connect() as conn:
        case = _case(conn, case_id)
        raw = raw_values(conn, case_id)
        typed = typed_values(raw)
        ct = typed.get("client_type")
        docs = documents(conn, case_id)
        latest: dict = {}
        for d in docs:
            latest[d.kind] = d
        e = T.kyc_events
        history = [{"seq": r.seq, "action": r.action, "role": r.role, "from_state": r.from_state,
                    "to_state": r.to_state, "by": r.by, "at": r.at, "comment": r.comment, "details": r.details}
                   for r in conn.execute(select(e).where(e.c.case_id == case_id).order_by(e.c.seq))]
        rep = conn.execute(select(T.kyc_reports).where(T.kyc_reports.c.case_id == case_id)).first()
        agreements = [_ag_ref(store, r).to_dict() for r in _ag_rows(conn, case_id)]
        client = None
        if case.state == "approved":
            st = client_status(conn, case.counterparty_id)
            client = {"status": st.status, "c_level": st.c_level, "tradable": st.tradable, "reason": st.reason,
                      "review_due": st.review_due, "docs_valid_until": st.docs_valid_until}
        facts = {k: typed.get(k, raw[k][0]) for k in raw}
        return CaseView(
            case_id=case.case_id, institution=typed.get("name") or case.institution, uscc=case.uscc,
            counterparty_id=case.counterparty_id, username=case.username, invited_by=case.invited_by,
            state=case.state, step=STEP_ROLE.get(case.state), client_type=ct, facts=facts,
            checks={k: {"level": v[1], "message": v[2]} for k, v in raw.items()},
            documents=[latest[k] for k in sorted(latest)], document_versions=docs,
            required_documents=required_documents(ct),
            missing=_missing(conn, case_id, raw, typed) if case.state in EDITABLE else [],
            questionnaire=latest_assessment(conn, case_id, "questionnaire"),
            suitability=latest_assessment(conn, case_id, "suitability"),
            hits=current_hits(conn, case_id), aml=latest_assessment(conn, case_id, "aml"), history=history,
            prepared_by=preparers(conn, case_id), approvals=approvals(conn, case_id),
            report=None if rep is None else {"path": rep.path, "sha256": rep.sha256, "signer": rep.signer,
                                             "log_index": rep.log_index, "created_at": rep.created_at},
            client=client, extra={"agreements": agreements})
