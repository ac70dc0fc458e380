"""Screening of cases in the store: the registered lists, a case's screening runs and hits, hit
decisions (false positives remembered per (name, list entry)), and rescreening when a list
changes.

A list is registered with ``register_list`` (CLI ``otclab kyc lists load FILE``): the file is
copied under the KYC files folder by its SHA-256 and recorded in ``kyc_lists``; the newest
version of each list name is in force. With none registered, the shipped demo list
(``data/demo_sanctions.ftm.json``) is. A case's current hits are those of its latest screening.
"""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, insert, select, update

from ..core.errors import OtcError
from ..store import tables_kyc as T
from ..store.db import now
from . import rules as R
from .screening import DEMO_LIST, cached, list_name, normalise, parse_list, screen_subjects, subjects_of


def register_list(store, path, by: str, name: str | None = None) -> dict:
    """Register a list file (FollowTheMoney JSON lines); returns {name, version, entries, new}.
    Registering the same bytes again changes nothing."""
    from .paths import files_dir, write_atomic

    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as e:
        raise OtcError(f"cannot read {p}: {e.strerror}", "list") from None
    sl = parse_list(data, name or list_name(p), str(p))
    if not sl.entries:
        raise OtcError(f"{p}: no Person, Company or Organization entities with a name", "list")
    with store.begin() as conn:
        cur = _in_force(conn).get(sl.name)
        if cur is not None and cur["version"] == sl.version:
            return {"name": sl.name, "version": sl.version, "entries": len(sl.entries), "new": False}
        dest = files_dir(store) / "lists" / f"{sl.name}-{sl.version[:16]}.json"
        if not dest.exists():
            write_atomic(dest, data)
        conn.execute(insert(T.kyc_lists).values(name=sl.name, version=sl.version, path=str(dest),
                                                entries=len(sl.entries), loaded_by=by, loaded_at=now()))
    return {"name": sl.name, "version": sl.version, "entries": len(sl.entries), "new": True}


def _in_force(conn) -> dict:
    k = T.kyc_lists
    last = select(func.max(k.c.id)).group_by(k.c.name)
    return {r.name: {"name": r.name, "version": r.version, "path": r.path, "entries": r.entries}
            for r in conn.execute(select(k).where(k.c.id.in_(last.scalar_subquery())))}


def current_lists(store) -> list:
    """The ScreeningLists in force (parsed and indexed once per process per version)."""
    with store.connect() as conn:
        regs = _in_force(conn)
    if not regs:
        import hashlib

        data = DEMO_LIST.read_bytes()
        return [cached(str(DEMO_LIST), list_name(DEMO_LIST), hashlib.sha256(data).hexdigest())]
    return [cached(r["path"], r["name"], r["version"]) for r in sorted(regs.values(), key=lambda r: r["name"])]


def _cleared(conn, keys: set[str]) -> dict:
    c = T.kyc_cleared
    out = {}
    if not keys:
        return out
    for r in conn.execute(select(c).where(c.c.subject_key.in_(sorted(keys))).order_by(c.c.id)):
        out[(r.subject_key, r.entry_id)] = r
    return out


def screen_case(conn, case_id: str, typed: dict, by: str, lists) -> list[dict]:
    """Screen the case's subjects against ``lists`` and store the run and its hits; a hit cleared
    before as a false positive for the same (name, entry), on this case or another, comes back
    decided; a decision of the case's previous run on the same hit is kept. Returns the hits."""
    subjects = subjects_of(typed, R.screened_owners(typed))
    cutoff = float(R.rules()["screening"]["score_min"])
    hits = screen_subjects(lists, subjects, cutoff)
    prev = {(h["subject_role"], h["subject_name"], h["entry_id"]): h for h in current_hits(conn, case_id)}
    cleared = _cleared(conn, {normalise(h["subject_name"]) for h in hits})
    ts = now()
    sid = conn.execute(insert(T.kyc_screenings).values(
        case_id=case_id, list_versions={sl.name: sl.version for sl in lists},
        subjects=[{"role": s["role"], "name": s["name"]} for s in subjects], hits=len(hits), by=by,
        at=ts)).inserted_primary_key[0]
    rows = []
    for h in hits:
        row = {"screening_id": sid, "case_id": case_id, "subject_role": h["subject_role"],
               "subject_name": h["subject_name"], "list_name": h["list_name"], "entry_id": h["entry_id"],
               "entry_name": h["entry_name"], "entry_schema": h["schema"], "topics": h["topics"],
               "score": h["score"], "decision": None, "decided_by": None, "decided_at": None, "comment": None}
        p = prev.get((h["subject_role"], h["subject_name"], h["entry_id"]))
        c = cleared.get((normalise(h["subject_name"]), h["entry_id"]))
        if p is not None and p["decision"]:
            row.update(decision=p["decision"], decided_by=p["decided_by"], decided_at=p["decided_at"],
                       comment=p["comment"])
        elif c is not None:
            row.update(decision="false_positive", decided_by=c.decided_by, decided_at=c.decided_at,
                       comment=f"cleared before (case {c.case_id}): {c.comment or ''}".strip())
        rows.append(row)
    if rows:
        conn.execute(insert(T.kyc_hits), rows)
    return current_hits(conn, case_id)


def current_hits(conn, case_id: str) -> list[dict]:
    """The hits of the case's latest screening: [{hit_id, subject_role, subject_name, list_name,
    entry_id, entry_name, schema, topics, score, decision, decided_by, decided_at, comment}]."""
    s, h = T.kyc_screenings, T.kyc_hits
    sid = conn.execute(select(func.max(s.c.id)).where(s.c.case_id == case_id)).scalar()
    if sid is None:
        return []
    return [{"hit_id": r.id, "subject_role": r.subject_role, "subject_name": r.subject_name,
             "list_name": r.list_name, "entry_id": r.entry_id, "entry_name": r.entry_name,
             "schema": r.entry_schema, "topics": r.topics or [], "score": r.score, "decision": r.decision,
             "decided_by": r.decided_by, "decided_at": r.decided_at, "comment": r.comment}
            for r in conn.execute(select(h).where(h.c.screening_id == sid).order_by(h.c.score.desc(), h.c.id))]


def decide(conn, case_id: str, hit_id: int, decision: str, by: str, comment: str) -> dict:
    """Record a decision on one current hit of the case (once; a decided hit is not re-decided)."""
    hits = {x["hit_id"]: x for x in current_hits(conn, case_id)}
    hit = hits.get(hit_id)
    if hit is None:
        raise OtcError(f"hit {hit_id} is not one of case {case_id}'s current screening hits", "hit_id")
    if hit["decision"] is not None:
        raise OtcError(f"hit {hit_id} was already decided ({hit['decision']} by {hit['decided_by']})", "hit_id")
    ts = now()
    conn.execute(update(T.kyc_hits).where(T.kyc_hits.c.id == hit_id, T.kyc_hits.c.decision.is_(None))
                 .values(decision=decision, decided_by=by, decided_at=ts, comment=comment))
    if decision == "false_positive":
        conn.execute(insert(T.kyc_cleared).values(subject_key=normalise(hit["subject_name"]), entry_id=hit["entry_id"],
                                                  case_id=case_id, decided_by=by, decided_at=ts, comment=comment))
    return {**hit, "decision": decision, "decided_by": by, "decided_at": ts, "comment": comment}


def rescreen(store, by: str = "system") -> list[str]:
    """Screen again every submitted, in-review or approved case whose latest screening used other
    list versions than those in force. An approved client with a new undecided hit is suspended
    until the hit is decided. Returns the case ids rescreened."""
    from .cases import _jsonable, raw_values, typed_values
    from .clients import _latest, record_client
    from .evidence import add_event, catch_up

    lists = current_lists(store)
    versions = {sl.name: sl.version for sl in lists}
    c, s = T.kyc_cases, T.kyc_screenings
    done = []
    with store.connect() as conn:
        todo = []
        for row in conn.execute(select(c).where(c.c.state.in_(("sales_review", "operations_review", "compliance_review",
                                                               "risk_review", "approved")))):
            used = conn.execute(select(s.c.list_versions).where(s.c.case_id == row.case_id)
                                .order_by(s.c.id.desc()).limit(1)).scalar()
            if used != versions:
                todo.append(row.case_id)
    for case_id in todo:
        with store.begin() as conn:
            case = conn.execute(select(c).where(c.c.case_id == case_id)).first()
            typed = typed_values(raw_values(conn, case_id))
            hits = screen_case(conn, case_id, typed, by, lists)
            aml = R.aml_rating(typed, hits)
            conn.execute(insert(T.kyc_assessments).values(case_id=case_id, kind="aml", result=_jsonable(aml),
                                                          rules_version=R.rules_version(), at=now()))
            open_ = [h for h in hits if h["decision"] is None]
            add_event(conn, case_id, "rescreened", by, case.state, from_state=case.state,
                      details={"lists": versions, "hits": len(hits), "open": len(open_), "aml": aml["level"]})
            if case.state == "approved" and open_:
                cur = _latest(conn, [case.counterparty_id]).get(case.counterparty_id)
                if cur is not None and cur.status == "approved":
                    record_client(conn, counterparty_id=cur.counterparty_id, name=cur.name, uscc=cur.uscc,
                                  status="suspended", c_level=cur.c_level, eligible_otc=bool(cur.eligible_otc),
                                  review_date=cur.review_date, docs_valid_until=cur.docs_valid_until,
                                  max_premium=cur.max_premium, case_id=case_id, source="suspend",
                                  reason=f"new screening hit to review ({open_[0]['entry_name']}, "
                                         f"score {open_[0]['score']})", recorded_by=by)
        done.append(case_id)
    if done:
        catch_up(store)
    return done
