"""The demo's client master: the demo counterparties, onboarded before the platform, brought in
the way operations brings in any existing client (a client-master CSV through ``import_clients``,
the same path as ``otclab kyc import``)."""
from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

from .clients import import_clients, parse_import


def clients_csv(counterparties, review_date: dt.date | None = None, c_level: int = 5) -> str:
    """A client-master CSV of ``counterparties`` ([{id, name, uscc}]): approved, C5 (OTC options
    are R5), reviewed on ``review_date`` (default today), documents valid for five more years."""
    review_date = review_date or dt.date.today()
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["counterparty_id", "name", "uscc", "status", "c_level", "review_date", "docs_valid_until", "eligible_otc"])
    for cp in counterparties:
        w.writerow([cp["id"], cp["name"], cp.get("uscc") or "", "approved", f"C{c_level}", review_date.isoformat(),
                    (review_date + dt.timedelta(days=5 * 365)).isoformat(), "yes"])
    return buf.getvalue()


def import_demo_clients(store, counterparties, folder=None, by: str = "demo") -> int:
    """Import the demo counterparties into the client master (writes ``folder/clients.csv`` too)."""
    text = clients_csv(counterparties)
    name = "clients.csv"
    if folder is not None:
        p = Path(folder) / "clients.csv"
        p.write_text(text, encoding="utf-8")
        name = str(p)
    return import_clients(store, parse_import(text), by, name)


def onboard(store, counterparties, by: str = "operations", c_level: int = 5) -> int:
    """Bring existing clients into the client master as approved (operations' bulk import of a
    client list): ``counterparties`` are ids or {id, name, uscc?} dicts."""
    cps = [c if isinstance(c, dict) else {"id": c, "name": c} for c in counterparties]
    seen, uniq = set(), []
    for c in cps:
        if c["id"] not in seen:
            seen.add(c["id"])
            uniq.append(c)
    return import_clients(store, parse_import(clients_csv(uniq, c_level=c_level)), by, "client list")


DEMO_CASES = (
    # (counterparty id, login, institution, USCC body, legal representative, owners, net assets, where it stops)
    ("KYC001", "client.hanhai", "瀚海鼎盛投资有限公司", "91310115MA1H7GQK3", "郑远航", "郑远航,60%\n钱嘉禾,40%", "8000万",
     "sales_review"),
    ("KYC002", "client.ruifeng", "华南瑞丰矿业投资有限公司", "91440300MA5F8KXR2", "罗杰", "罗杰,70%", "1.2亿",
     "compliance_review"),
    ("KYC003", "client.yuanhang", "远航博达科技有限公司", "91330106MA2H3LDE7", "林海燕", "林海燕,100%", "3000万",
     "draft"),
)


def demo_cases(store, by: str = "demo") -> list[str]:
    """Three onboarding cases for trying the KYC pages: one waiting for sales, one at compliance
    with screening hits (near matches of the demo list: the company, and 罗杰 as a PEP), one draft short of the OTC standard and of
    its documents. Reviewer and client names are those of the demo users."""
    import datetime as dt

    from stdnum.cn import ric, uscc

    from ..access import Identity
    from ..esign.pdfsign.sample import sample_pdf
    from .cases import act, save_section, submit
    from .documents import upload
    from .fields import QUESTIONNAIRE, required_documents
    from .invitations import case_for_user, invite, redeem

    out = []
    rid = "11010519800101001"
    rid += ric.calc_check_digit(rid + "0")
    for cp, login, name, body, rep, owners, net, stop in DEMO_CASES:
        if case_for_user(store, login):
            out.append(case_for_user(store, login))
            continue
        code = uscc.calc_check_digit(body)
        inv = invite(store, institution=name, uscc=body + code, contact_name=rep, contact=f"{login}@example.com",
                     invited_by="sales.demo", counterparty_id=cp)
        case = redeem(store, inv.code, login)
        save_section(store, case, "institution", {
            "name": name, "uscc": body + code, "client_type": "enterprise", "registered_address": "上海市浦东新区世纪大道100号",
            "established": "2012-05-01", "license_valid_until": "9999-12-31", "legal_rep_name": rep, "legal_rep_id": rid,
            "legal_rep_id_valid_until": (dt.date.today() + dt.timedelta(days=3000)).isoformat(),
            "authorised_traders": "李明\n赵强", "beneficial_owners": owners}, login)
        save_section(store, case, "financials", {"net_assets": net, "financial_assets": "0.3亿",
                                                 "investment_years": "5"}, login)
        save_section(store, case, "questionnaire", {q["name"]: q["choices"][-1][0] for q in QUESTIONNAIRE}, login)
        if stop != "draft":
            for d in required_documents("enterprise"):
                upload(store, case, d["kind"], f"{d['kind']}.pdf", sample_pdf([f"{name} {d['label_en']}"]), login)
            submit(store, case, login)
        if stop == "compliance_review":
            act(store, case, "approve", Identity.of_groups("sales.demo", ["sales"]), "身份与关系核实")
            act(store, case, "approve", Identity.of_groups("ops.demo", ["operations"]), "文件齐备")
        out.append(case)
    return out
