"""The registry on the store (SQLite and PostgreSQL): shipped versions approved, any other a draft
that cannot be booked or quoted; states as appended events; one validation of a version at a time;
the migration in step with the table module; the shipped manifest in step with payoffs/."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from otclab.access import AccessDenied, Identity
from otclab.governance import manifest, registry, runs
from otclab.governance.states import GovernanceError, TemplateNotApproved
from otclab.workflows import trades as tc
from otclab.store.tables_governance import template_events, validation_runs
from otclab.templates.loader import get_template

from gov_support import BOOK_DATE, notebook, reviewed, vanilla_trade


def test_every_shipped_notebook_is_in_the_manifest_with_its_evidence():
    # a shipped notebook changed without its manifest entry fails here (otclab payoffs manifest --write)
    assert manifest.missing() == []
    for name, version in manifest.shipped().items():
        e = manifest.approved(name, version)
        assert e["validation"]["status"] == "pass" and e["approved_by"]
        assert e["comparison"]["checks"] and all(c["ok"] for c in e["comparison"]["checks"])


def test_a_shipped_version_books_and_an_edited_one_is_a_draft_that_cannot(store, desk):
    assert tc.book(store, [vanilla_trade("V1")], as_of=BOOK_DATE)[0].template_version == get_template("vanilla").version
    shipped = get_template("vanilla").version
    notebook(desk, "vanilla", reviewed)
    new = get_template("vanilla").version
    assert new != shipped
    with pytest.raises(TemplateNotApproved) as e:
        tc.book(store, [vanilla_trade("V2")], as_of=BOOK_DATE)
    assert e.value.field == "template_version"
    assert f"template vanilla version {new} is draft, not approved: it cannot be used to book" in e.value.message
    # the shipped version is still bookable by pinning it
    tc.book(store, [vanilla_trade("V3", template_version=shipped)], as_of=BOOK_DATE)
    with store.connect() as c:
        assert registry.state_of(c, "vanilla", shipped) == ("approved", "manifest")
        assert registry.state_of(c, "vanilla", new) == ("draft", "none")


def test_a_booked_trade_is_not_moved_onto_a_draft_version(store, desk):
    shipped = get_template("vanilla").version
    tc.book(store, [vanilla_trade("V1")], as_of=BOOK_DATE)
    notebook(desk, "vanilla", reviewed)
    new = get_template("vanilla").version
    with pytest.raises(TemplateNotApproved, match=f"template vanilla version {new} is draft"):
        tc.amend(store, "V1", {"template_version": new}, reason="new payoff code")
    rec = tc.amend(store, "V1", {"terms": {"strike": 1.05}}, reason="client asked")   # its own version stays
    assert rec.template_version == shipped and rec.version == 2


def test_a_retired_version_cannot_be_booked_and_retiring_needs_the_scope_and_a_reason(store):
    v = get_template("vanilla").version
    with store.begin() as c:
        with pytest.raises(AccessDenied, match="bob may not retire template vanilla"):
            registry.retire(c, "vanilla", v, Identity.of_groups("bob", ["quant"]), "old")
        with pytest.raises(GovernanceError, match="say why"):
            registry.retire(c, "vanilla", v, Identity.of_groups("carol", ["risk"]), " ")
        registry.retire(c, "vanilla", v, Identity.of_groups("carol", ["risk"]), "superseded by the 2026 docs")
    with pytest.raises(TemplateNotApproved, match=f"template vanilla version {v} is retired"):
        tc.book(store, [vanilla_trade("V1")], as_of=BOOK_DATE)
    with store.begin() as c:
        with pytest.raises(GovernanceError, match="is retired; it cannot become approved"):
            registry.approve(c, "vanilla", v, Identity.of_groups("carol", ["risk"]), "again")
        (ev,) = c.execute(select(template_events)).all()
    assert (ev.state, ev.actor, ev.reason) == ("retired", "carol", "superseded by the 2026 docs")


def test_two_validations_of_one_version_never_run_at_once_and_a_dead_runs_is_interrupted(store, monkeypatch):
    rid = runs.start(store, "vanilla", "abc123def456", "/x/vanilla.ipynb", "bob")
    with pytest.raises(runs.AlreadyRunning, match=f"run {rid} by .*triggered by bob"):
        runs.start(store, "vanilla", "abc123def456", "/x/vanilla.ipynb", "schedule")
    other = runs.start(store, "vanilla", "0000aaaa1111", "/x/vanilla.ipynb", "bob")   # another version may run
    # the owner dies: the next start (a restart) finds its run interrupted, not running
    monkeypatch.setattr(runs, "_alive", lambda own: False)
    again = runs.start(store, "vanilla", "abc123def456", "/x/vanilla.ipynb", "schedule")
    with store.connect() as c:
        st = dict(c.execute(select(validation_runs.c.id, validation_runs.c.status)).all())
    assert st == {rid: "interrupted", other: "running", again: "running"}
    assert runs.finish(store, again, "pass", seconds=1.0) and not runs.finish(store, rid, "pass")


def test_the_migration_creates_the_tables_the_module_declares(store):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from otclab.store.tables import metadata

    ours = {"validation_runs", "template_comparisons", "template_events"}
    with store.connect() as c:
        diff = compare_metadata(MigrationContext.configure(c), metadata)

    # every difference names its table (add_column, remove_index, modify_type, ...)
    assert [d for d in diff if any(t in repr(d) for t in ours)] == []
