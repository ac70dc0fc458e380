"""The registry of template versions: states from appended events, approval and retirement.

A version's state is its latest ``template_events`` row in the store; without one, ``approved``
when ``payoffs/approved.json`` ships it (source ``manifest``), else ``draft`` (unregistered). The
author of a version is whoever registered or validated it (a person who triggered one of its
runs, or named in its draft / validated events); the approver must be someone else holding
``TEMPLATE_APPROVE``, and approves only a validated version whose last run passed, citing a
passing comparison of an independent template (a different version) against it.
"""
from __future__ import annotations

from sqlalchemy import insert, select

from ..access import TEMPLATE_APPROVE, Identity
from ..store.db import now
from ..store.tables_governance import template_comparisons as TC
from ..store.tables_governance import template_events as TE
from ..store.tables_governance import validation_runs as VR
from . import manifest
from .states import GovernanceError, check_transition, is_person


def events(conn, name: str, version: str) -> list:
    """The version's events, oldest first."""
    return conn.execute(select(TE).where(TE.c.template == name, TE.c.version == version).order_by(TE.c.id)).all()


def state_of(conn, name: str, version: str) -> tuple[str, str]:
    """(state, source): source ``store`` (an event), ``manifest`` (shipped approved) or ``none``."""
    last = conn.execute(select(TE.c.state).where(TE.c.template == name, TE.c.version == version)
                        .order_by(TE.c.id.desc()).limit(1)).scalar()
    if last is not None:
        return last, "store"
    if manifest.approved(name, version):
        return "approved", "manifest"
    return "draft", "none"


def record(conn, name: str, version: str, state: str, actor: str, reason: str | None = None,
           run_id: int | None = None, comparison_id: int | None = None) -> int:
    """Append the transition to ``state`` (checked against the current state); its event id."""
    cur, source = state_of(conn, name, version)
    check_transition(name, version, None if source == "none" else cur, state)
    return conn.execute(insert(TE).values(template=name, version=version, state=state, actor=actor, at=now(),
                                          reason=reason, run_id=run_id, comparison_id=comparison_id)
                        ).inserted_primary_key[0]


def runs(conn, name: str, version: str) -> list:
    return conn.execute(select(VR).where(VR.c.template == name, VR.c.version == version).order_by(VR.c.id)).all()


def authors(conn, name: str, version: str) -> set[str]:
    """The people who registered or validated the version (never its approver)."""
    people = {r.trigger for r in runs(conn, name, version) if is_person(r.trigger)}
    people |= {e.actor for e in events(conn, name, version) if e.state in ("draft", "validated") and is_person(e.actor)}
    return people


def approve(conn, name: str, version: str, who: Identity, reason: str, comparison_id: int | None = None) -> int:
    """Approve ``name`` at ``version`` for booking and quoting; returns the event id.

    Refused (``AccessDenied`` / ``GovernanceError``, naming what is missing) unless ``who`` holds
    ``TEMPLATE_APPROVE``, is not one of its authors, the version is validated and its last run
    passed, and a passing comparison of another version against it is recorded (``comparison_id``,
    default the latest passing one)."""
    who.require(TEMPLATE_APPROVE, f"approve template {name} version {version}")
    if not reason or not reason.strip():
        raise GovernanceError("say why (--reason): approvals are audited", "reason")
    state, _ = state_of(conn, name, version)
    check_transition(name, version, state, "approved")
    done = [r for r in runs(conn, name, version) if r.status != "running"]
    if not done or done[-1].status != "pass":
        last = f"its last run ({done[-1].id}) is {done[-1].status}" if done else "it has no finished run"
        raise GovernanceError(f"template {name} version {version}: {last}; validate it again before approving",
                              "validation")
    people = authors(conn, name, version)
    if not people:
        raise GovernanceError(f"no author is recorded for template {name} version {version} (only machine-triggered "
                              f"runs): its author validates it with `otclab payoffs validate {name} --user AUTHOR`",
                              "author")
    if who.name in people:
        raise GovernanceError(f"{who.name} registered or validated template {name} version {version}; a different "
                              f"user must approve it (four eyes)", "user")
    q = select(TC).where(TC.c.desk_template == name, TC.c.desk_version == version)
    if comparison_id is not None:
        q = q.where(TC.c.id == comparison_id)
    comps = conn.execute(q.order_by(TC.c.id)).all()
    if comparison_id is not None and not comps:
        raise GovernanceError(f"comparison {comparison_id} is not of template {name} version {version}", "comparison")
    good = [c for c in comps if c.ok and c.risk_version != version]
    if not good:
        why = ("none is recorded" if not comps else
               f"comparison {comps[-1].id} compares the version with itself" if comps[-1].risk_version == version
               else f"comparison {comps[-1].id} did not pass")
        raise GovernanceError(f"template {name} version {version} needs risk control's comparison before approval "
                              f"({why}): `otclab payoffs compare {name} RISK_TEMPLATE --cases FILE --record "
                              f"--user RISK_USER`", "comparison")
    return record(conn, name, version, "approved", who.name, reason, run_id=done[-1].id, comparison_id=good[-1].id)


def retire(conn, name: str, version: str, who: Identity, reason: str) -> int:
    """Retire a version (no new bookings or quotes; booked trades keep pricing with it)."""
    who.require(TEMPLATE_APPROVE, f"retire template {name} version {version}")
    if not reason or not reason.strip():
        raise GovernanceError("say why (--reason): retirements are audited", "reason")
    return record(conn, name, version, "retired", who.name, reason)


def status(conn, current: dict[str, str] | None = None) -> list[dict]:
    """One row per known version: every version with an event or a run in the store, every
    version in the shipped manifest, and ``current`` ({name: version} of the notebooks now on the
    search path). Each row: template, version, state, source, current (is it the notebook's
    version now), last run (id, status, trigger, at), approver and comparison of the approval."""
    keys = set(manifest._cached()) | {(n, v) for n, v in (current or {}).items()}
    keys |= {(r.template, r.version) for r in conn.execute(select(TE.c.template, TE.c.version).distinct())}
    keys |= {(r.template, r.version) for r in conn.execute(select(VR.c.template, VR.c.version).distinct())}
    out = []
    for name, version in sorted(keys):
        state, source = state_of(conn, name, version)
        rs = runs(conn, name, version)
        ev = [e for e in events(conn, name, version) if e.state == "approved"]
        shipped = manifest.approved(name, version)
        last = rs[-1] if rs else None
        out.append({"template": name, "version": version, "state": state, "source": source,
                    "current": (current or {}).get(name) == version,
                    "last_run": last.id if last else None, "last_status": last.status if last else None,
                    "last_trigger": last.trigger if last else None,
                    "last_at": last.started_at.isoformat(timespec="seconds") if last else None,
                    "approved_by": ev[-1].actor if ev else (shipped or {}).get("approved_by"),
                    "comparison": ev[-1].comparison_id if ev else None})
    return out
