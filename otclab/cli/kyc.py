"""``otclab kyc``: invitations, the client master (import, status, suspension), screening lists,
reviewers' queues and decisions, the sealed review report, and the agreements the client signs
(``otclab kyc agreements issue|sign|show``)."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

from ._store import DB_HELP, dump, get_store, read_text, table

NAME = "kyc"
app = typer.Typer(help="KYC onboarding: invitations, client master, screening lists, reviews, sealed reports.",
                  no_args_is_help=True)
lists_app = typer.Typer(help="Sanctions / negative-news screening lists (FollowTheMoney JSON lines).",
                        no_args_is_help=True)
app.add_typer(lists_app, name="lists")
agreements_app = typer.Typer(help="The agreements an approved client signs: issue (the firm's seal), sign (the "
                                  "client's certificate), show.", no_args_is_help=True)
app.add_typer(agreements_app, name="agreements")


def _db():
    return typer.Option(None, "--db", help=DB_HELP)


def _who(user: Optional[str]) -> str:
    from ._store import user as whoami

    return user or whoami() or "unknown"


@app.command()
def invite(institution: str = typer.Option(..., help="the institution's legal name"),
           uscc: str = typer.Option(..., help="its unified social credit code (统一社会信用代码)"),
           contact_name: str = typer.Option(..., "--contact-name"),
           contact: str = typer.Option(..., help="e-mail or phone the code is sent to"),
           counterparty_id: Optional[str] = typer.Option(None, "--counterparty-id",
                                                         help="the desk's id the client trades under (default: USCC)"),
           valid_days: int = typer.Option(14, "--valid-days"), user: Optional[str] = typer.Option(None, "--user"),
           db: Optional[str] = _db(), as_json: bool = typer.Option(False, "--json")) -> None:
    """Invite an institution (sales). The code is printed once; only its hash is stored."""
    from ..kyc import service

    inv = service.invite(get_store(db), institution=institution, uscc=uscc, contact_name=contact_name, contact=contact,
                         invited_by=_who(user), valid_days=valid_days, counterparty_id=counterparty_id)
    if as_json:
        dump(inv.__dict__)
        return
    print(f"invitation {inv.id} for {inv.institution} ({inv.uscc}, counterparty {inv.counterparty_id})")
    print(f"code {inv.code} (single use, expires {inv.expires_at:%Y-%m-%d %H:%M} UTC; shown only now)")


@app.command("import")
def import_(csv_file: str = typer.Argument(..., help="client master CSV: counterparty_id,name,uscc,status,c_level,"
                                                      "review_date[,docs_valid_until,eligible_otc]"),
            user: Optional[str] = typer.Option(None, "--user", help="who imports (recorded, evidence-logged)"),
            db: Optional[str] = _db()) -> None:
    """Bring clients onboarded before the platform into the client master (operations). Every row
    is checked first; nothing is written if one is wrong."""
    from ..kyc import service

    text = read_text(csv_file, "clients.csv")
    n = service.import_clients(get_store(db), service.parse_import(text), _who(user), csv_file)
    print(f"imported {n} client(s) from {csv_file}")


@app.command()
def clients(db: Optional[str] = _db(), as_json: bool = typer.Option(False, "--json")) -> None:
    """Every client of the client master with its status as booking sees it."""
    import pandas as pd

    from ..kyc import service

    st = get_store(db)
    with st.connect() as conn:
        rows = service.clients(conn)
    if as_json:
        dump([r.__dict__ for r in rows])
        return
    print(table(pd.DataFrame([{"counterparty": r.counterparty_id, "name": r.name, "status": r.status,
                               "C": f"C{r.c_level}", "review due": r.review_due, "docs until": r.docs_valid_until,
                               "tradable": "yes" if r.tradable else "no"} for r in rows])) if rows else "(no clients)")


@app.command()
def status(counterparty_id: str, product: str = typer.Option("snowball", help="template to check the C-level against"),
           db: Optional[str] = _db(), as_json: bool = typer.Option(False, "--json")) -> None:
    """Whether a counterparty may trade ``product`` now, and why not. Exit 1 when it may not."""
    from ..kyc import service

    st = get_store(db)
    with st.connect() as conn:
        s = service.client_status(conn, counterparty_id)
        refusal = service.check_counterparties(conn, [(counterparty_id, product)])[0]
    if as_json:
        dump({**s.__dict__, "product": product, "refusal": refusal})
    else:
        print(f"{counterparty_id}: {s.status}" + (f", C{s.c_level}" if s.c_level else "")
              + (f", review due {s.review_due}" if s.review_due else ""))
        print(f"{product}: " + ("may trade" if refusal is None else f"refused: {refusal}"))
    if refusal is not None:
        raise SystemExit(1)


@app.command()
def suspend(counterparty_id: str, reason: str = typer.Option(..., help="why (recorded, evidence-logged)"),
            user: Optional[str] = typer.Option(None, "--user"), db: Optional[str] = _db()) -> None:
    """Suspend new trading with a client."""
    from ..kyc import service

    s = service.suspend(get_store(db), counterparty_id, reason, _who(user))
    print(f"{counterparty_id}: {s.status} ({s.reason})")


@lists_app.command("load")
def lists_load(path: str, name: Optional[str] = typer.Option(None, help="list name (default: from the file name)"),
               rescreen: bool = typer.Option(True, help="rescreen the cases screened against an older version"),
               user: Optional[str] = typer.Option(None, "--user"), db: Optional[str] = _db()) -> None:
    """Register a list file (OpenSanctions FollowTheMoney JSON lines) and rescreen on a change."""
    from ..kyc import service

    st = get_store(db)
    r = service.register_list(st, path, _who(user), name)
    print(f"list {r['name']}: {r['entries']} entities, version {r['version'][:16]}" + ("" if r["new"] else " (unchanged)"))
    if rescreen and r["new"]:
        done = service.rescreen(st, _who(user))
        print(f"rescreened {len(done)} case(s)" + (f": {', '.join(done)}" if done else ""))


@lists_app.command("show")
def lists_show(db: Optional[str] = _db()) -> None:
    """The lists in force."""
    from ..kyc import service

    for sl in service.current_lists(get_store(db)):
        print(f"{sl.name}: {len(sl.entries)} entities, version {sl.version[:16]} ({sl.path})")


@app.command()
def rescreen(user: Optional[str] = typer.Option(None, "--user"), db: Optional[str] = _db()) -> None:
    """Rescreen every case screened against another version of the lists than those in force."""
    from ..kyc import service

    done = service.rescreen(get_store(db), _who(user))
    print(f"rescreened {len(done)} case(s)" + (f": {', '.join(done)}" if done else ""))


@app.command()
def queue(role: str = typer.Argument(..., help="sales | operations | compliance | risk"), db: Optional[str] = _db(),
          as_json: bool = typer.Option(False, "--json")) -> None:
    """The cases waiting for a reviewer role."""
    import pandas as pd

    from ..kyc import service

    rows = service.queue(get_store(db), role)
    if as_json:
        dump([r.__dict__ for r in rows])
        return
    print(table(pd.DataFrame([{"case": r.case_id, "institution": r.institution, "counterparty": r.counterparty_id,
                               "AML": r.aml_level, "open hits": r.open_hits, "since": r.waiting_since}
                              for r in rows])) if rows else f"(no case waits for {role})")


@app.command()
def show(case_id: str, db: Optional[str] = _db()) -> None:
    """Everything about a case (JSON)."""
    from ..kyc import service

    dump(service.view(get_store(db), case_id).to_dict())


@app.command()
def act(case_id: str, action: str = typer.Argument(..., help="approve | reject | return"),
        comment: Optional[str] = typer.Option(None, "--comment"),
        user: Optional[str] = typer.Option(None, "--user", help="the reviewer (groups from the users file)"),
        db: Optional[str] = _db()) -> None:
    """A reviewer's decision at the case's current step (four-eyes; groups from the users file)."""
    from ..access import local_identity
    from ..kyc import service

    st = get_store(db)
    state = service.act(st, case_id, action, local_identity(_who(user)), comment)
    print(f"{case_id}: {state}")
    if state == "approved":
        failed = service.agreements_failure(st, case_id)
        if failed:
            print(f"warning: {failed}", file=sys.stderr)
        else:
            print(f"agreements issued for the client to sign: {len(service.agreements(st, case_id))}")


@app.command()
def report(case_id: str, out: Optional[Path] = typer.Option(None, "--out", help="also copy the sealed PDF here"),
           db: Optional[str] = _db(), as_json: bool = typer.Option(False, "--json")) -> None:
    """The sealed review report of an approved case (made once)."""
    from ..kyc import service

    ref = service.report(get_store(db), case_id)
    if out:
        Path(out).write_bytes(Path(ref.path).read_bytes())
    if as_json:
        print(json.dumps({**ref.__dict__, "created_at": ref.created_at.isoformat()}, ensure_ascii=False))
        return
    print(f"{ref.path} sha256 {ref.sha256} sealed by {ref.signer} (evidence entry {ref.log_index})")


@app.command()
def demo(db: Optional[str] = _db()) -> None:
    """Three demo onboarding cases for the KYC pages (one at sales, one at compliance with screening
    hits, one draft); running it again changes nothing."""
    from ..kyc import service
    from ..kyc.demo import demo_cases

    st = get_store(db)
    for case in demo_cases(st):
        v = service.view(st, case)
        print(f"{case} {v.institution} ({v.counterparty_id}, login {v.username}): {v.state}, {len(v.hits)} hit(s)")


def _agreement_lines(refs) -> str:
    import pandas as pd

    from ..kyc.agreements import CST

    def t(x):
        return x.astimezone(CST).strftime("%Y-%m-%d %H:%M") if x else ""
    return table(pd.DataFrame([{"kind": r.kind, "title": r.title, "state": r.state,
                                "issued sha256": r.issued_sha256[:16], "issued": t(r.issued_at),
                                "signed sha256": (r.signed_sha256 or "")[:16], "signer": r.signer_subject or "",
                                "signed": t(r.signed_at)} for r in refs])) if refs else "(no agreements issued)"


@agreements_app.command("issue")
def agreements_issue(case_id: str, user: Optional[str] = typer.Option(None, "--user", help="who issues (recorded)"),
                     db: Optional[str] = _db(), as_json: bool = typer.Option(False, "--json")) -> None:
    """Issue the agreements of an approved case, sealed by the firm (made once; a rerun issues what
    is missing and finishes an interrupted run)."""
    from ..kyc import service

    refs = service.issue_agreements(get_store(db), case_id, by=_who(user))
    if as_json:
        dump([r.to_dict() for r in refs])
        return
    print(_agreement_lines(refs))


@agreements_app.command("sign")
def agreements_sign(case_id: str,
                    kind: Optional[list[str]] = typer.Option(None, "--kind", help="the agreement (repeatable; default: "
                                                                                  "every one not signed yet)"),
                    key: Path = typer.Option(..., "--key", help="the client's PKCS#12 (.p12/.pfx) or PEM key"),
                    cert: Optional[Path] = typer.Option(None, "--cert", help="its PEM certificate chain (PEM key)"),
                    password: Optional[str] = typer.Option(None, "--password", envvar="OTCLAB_SIGN_PASSWORD",
                                                           help="the key's password (or OTCLAB_SIGN_PASSWORD)"),
                    pki: Optional[Path] = typer.Option(None, "--pki", help="trust the root and CRL of this PKI folder "
                                                                           "(default: the KYC trust store)"),
                    user: Optional[str] = typer.Option(None, "--user", help="who signs (recorded)"),
                    db: Optional[str] = _db(), as_json: bool = typer.Option(False, "--json")) -> None:
    """The client signs the issued agreements with its own certificate (e.g. a CFCA one); both
    signatures are verified before the signed copy is stored."""
    from ..esign.cli_support import credentials
    from ..kyc import service

    st = get_store(db)
    cred = credentials(key, cert, password)
    trust = service.trust_from_pki(pki) if pki else service.agreement_trust()
    kinds = list(kind or []) or [r.kind for r in service.agreements(st, case_id) if r.state == "issued"]
    if not kinds:
        raise service.AgreementError(f"case {case_id} has no agreement waiting for a signature "
                                     f"(otclab kyc agreements show {case_id})", "kind")
    done = [service.sign_agreement(st, case_id, k, cred, trust, by=_who(user)) for k in kinds]
    if as_json:
        dump([r.to_dict() for r in done])
        return
    for r in done:
        print(f"{r.kind}: signed by {r.signer_subject}; {r.signed_path} sha256 {r.signed_sha256}")


@agreements_app.command("show")
def agreements_show(case_id: str, db: Optional[str] = _db(), as_json: bool = typer.Option(False, "--json")) -> None:
    """The agreements of a case: kind, title, state, hashes, signer, times; what trading still waits for."""
    from ..kyc import service

    st = get_store(db)
    refs = service.agreements(st, case_id)
    todo = service.unsigned_agreements(st, case_id)
    if as_json:
        dump({"agreements": [r.to_dict() for r in refs], "unsigned": todo,
              "failure": service.agreements_failure(st, case_id)})
        return
    print(_agreement_lines(refs))
    failed = service.agreements_failure(st, case_id)
    if failed:
        print(failed)
    if todo:
        print("trading waits for: " + "、".join(t["title"] for t in todo))
    else:
        print("every required agreement is signed")
