"""Approval of a template version (SQLite; one real papermill run for the module): four eyes,
the template-approve scope, risk control's recorded comparison; then it books, and the
registry's CLI shows it. Each test works on its own copy of the store the run validated."""
from __future__ import annotations

import json
import shutil

import pytest
from sqlalchemy import select

from otclab.access import AccessDenied, local_identity
from otclab.cli.main import main
from otclab.governance import registry
from otclab.governance.states import GovernanceError, TemplateNotApproved
from otclab.store import db as dbm
from otclab.workflows import trades as tc
from otclab.store.tables_governance import template_comparisons, template_events
from otclab.templates.loader import get_template

from builders import market, terms
from gov_support import BOOK_DATE, USERS, notebook, onboard, reviewed, vanilla_trade

RISK_PAYOFF = '''def intrinsic(xp, s, t):
    phi = 1.0 if t.option_type == "call" else -1.0
    x = phi * (s - t.strike)
    return xp.where(x > 0, x, 0.0)


def payoff(s, ctx):
    # risk control's own European vanilla: written apart from the desk's, the same contract
    assert ctx.terms.exercise == "european", "risk's template covers European exercise"
    return intrinsic(ctx.xp, s[:, -1], ctx.terms) * ctx.df()
'''


@pytest.fixture(scope="module")
def validated(tmp_path_factory):
    """A store where alice (quant and risk) validated an edited vanilla: (folder, db file, version)."""
    root = tmp_path_factory.mktemp("approval")
    desk = root / "desk_templates"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("OTCLAB_PAYOFFS", str(desk))
        notebook(desk, "vanilla", reviewed)
        notebook(desk, "vanilla", lambda tag, src: RISK_PAYOFF if tag == "payoff" else src, stem="risk_vanilla")
        notebook(desk, "vanilla", lambda tag, src: (RISK_PAYOFF.replace("* ctx.df()", "* ctx.df() + 0.002")
                                                    if tag == "payoff" else src), stem="risk_vanilla_wrong")
        url = f"sqlite:///{root / 'otclab.db'}"
        assert main(["payoffs", "validate", "vanilla", "--user", "alice", "--db", url, "--out", str(root / "out")]) == 0
        version = get_template("vanilla").version
        dbm._STORES.pop(url).dispose()
    return desk, root / "otclab.db", version


@pytest.fixture
def st(validated, tmp_path, monkeypatch):
    desk, db, version = validated
    monkeypatch.setenv("OTCLAB_PAYOFFS", str(desk))
    (tmp_path / "users.toml").write_text(USERS, encoding="utf-8")
    monkeypatch.setenv("OTCLAB_USERS", str(tmp_path / "users.toml"))
    shutil.copy(db, tmp_path / "otclab.db")
    url = f"sqlite:///{tmp_path / 'otclab.db'}"
    store = dbm.open_store(url)
    onboard(store, [vanilla_trade("V0")["counterparty"]])   # booking also needs an onboarded client (KYC)
    cases = tmp_path / "cases.jsonl"
    cases.write_text("\n".join(json.dumps({"name": f"K{k}", "terms": terms(option_type="call", strike=k),
                                           "market": market()}) for k in (0.9, 1.0, 1.1)), encoding="utf-8")
    yield {"store": store, "url": url, "version": version, "desk": desk, "cases": str(cases)}
    dbm._STORES.pop(url).dispose()


def _compare(st, risk, capsys, user="carol"):
    code = main(["payoffs", "compare", "vanilla", str(st["desk"] / f"{risk}.ipynb"), "--cases", st["cases"],
                 "--paths", "4000", "--record", "--user", user, "--db", st["url"], "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_the_validation_run_registered_and_validated_the_version(st):
    with st["store"].connect() as c:
        evs = registry.events(c, "vanilla", st["version"])
        (run,) = registry.runs(c, "vanilla", st["version"])
    assert [(e.state, e.actor) for e in evs] == [("draft", "alice"), ("validated", "alice")]
    assert (run.status, run.trigger) == ("pass", "alice") and run.report.endswith(".html")
    assert "<html" in open(run.report, encoding="utf-8").read()[:500].lower()
    assert {"mc_vs_analytic", "pde_vs_analytic"} <= {r["key"] for r in run.records}


def test_an_author_cannot_approve_their_own_template(st, capsys):
    assert _compare(st, "risk_vanilla", capsys)[0] == 0
    code = main(["payoffs", "approve", "vanilla", st["version"], "--user", "alice", "--reason", "mine", "--db", st["url"]])
    assert code == 2
    assert f"alice registered or validated template vanilla version {st['version']}; a different user must approve" \
        in capsys.readouterr().err


def test_a_user_without_the_scope_cannot_approve(st, capsys):
    for user in ("bob", "olga"):
        with st["store"].begin() as c, pytest.raises(AccessDenied, match=f"{user} may not approve template vanilla"):
            registry.approve(c, "vanilla", st["version"], local_identity(user), "looks fine")
    code = main(["payoffs", "approve", "vanilla", st["version"], "--user", "bob", "--reason", "ok", "--db", st["url"]])
    assert code == 3 and "custom:otclab:template-approve" in capsys.readouterr().err


def test_approval_without_a_passing_comparison_of_another_version_is_refused(st, capsys):
    carol = local_identity("carol")

    def refused(why):
        with st["store"].begin() as c, pytest.raises(GovernanceError, match=why):
            registry.approve(c, "vanilla", st["version"], carol, "compared")

    refused(r"needs risk control's comparison before approval \(none is recorded\)")
    code, out = _compare(st, "risk_vanilla_wrong", capsys)
    assert code == 1 and not any(r["ok"] for r in out["rows"])
    refused(rf"\(comparison {out['comparison']} did not pass\)")
    code, out = _compare(st, "vanilla", capsys)           # the desk's own notebook against itself
    assert code == 0 and all(r["diff"] == 0 for r in out["rows"])
    refused(rf"\(comparison {out['comparison']} compares the version with itself\)")
    with st["store"].connect() as c:
        assert c.execute(select(template_events.c.state).order_by(template_events.c.id.desc())).first()[0] == "validated"


def test_an_approved_version_is_booked_and_the_registry_shows_it(st, capsys):
    with pytest.raises(TemplateNotApproved, match=f"template vanilla version {st['version']} is validated, not approved"):
        tc.book(st["store"], [vanilla_trade("V1")], as_of=BOOK_DATE)
    code, out = _compare(st, "risk_vanilla", capsys)
    assert code == 0 and all(r["ok"] for r in out["rows"])
    # the same paths and the same contract written apart: the per-path differences are rounding, against
    # values of thousands (notional 1,000,000)
    assert all(abs(r["diff"]) < 0.01 and r["diff_se"] < 0.01 and r["desk"] > 1000 for r in out["rows"])
    assert main(["payoffs", "approve", "vanilla", st["version"], "--user", "carol", "--reason",
                 "risk's template agrees on the agreed cases", "--db", st["url"]]) == 0
    assert f"vanilla {st['version']}: approved by carol" in capsys.readouterr().out
    tc.book(st["store"], [vanilla_trade("V1")], as_of=BOOK_DATE)
    with st["store"].connect() as c:
        ev = c.execute(select(template_events).order_by(template_events.c.id.desc())).first()
        comp = c.execute(select(template_comparisons).where(template_comparisons.c.id == ev.comparison_id)).one()
    assert (ev.state, ev.actor, comp.risk_template, comp.compared_by, comp.ok) == \
        ("approved", "carol", "risk_vanilla", "carol", True)
    assert main(["payoffs", "status", "--db", st["url"]]) == 0
    lines = capsys.readouterr().out.splitlines()
    mine = next(x for x in lines if st["version"] in x).split()
    assert mine[:5] == ["vanilla", st["version"], "approved", "store", "yes"] and "carol" in mine
    assert mine[-1] == str(ev.comparison_id)
    shipped = [x.split() for x in lines[1:] if x.split()[0] == "snowball"]
    assert [s[2:4] for s in shipped] == [["approved", "manifest"]]
    assert main(["payoffs", "retire", "vanilla", st["version"], "--user", "carol", "--reason", "replaced",
                 "--db", st["url"]]) == 0
    with pytest.raises(TemplateNotApproved, match="is retired"):
        tc.book(st["store"], [vanilla_trade("V2")], as_of=BOOK_DATE)
