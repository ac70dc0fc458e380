"""Helpers of the KYC tests: valid identifiers, small real documents, a complete case, reviewers."""
from __future__ import annotations

import datetime as dt
import io

from stdnum.cn import ric, uscc

from otclab.access import Identity


def make_uscc(body17: str = "91310115MA1H7GQK3") -> str:
    return body17 + uscc.calc_check_digit(body17)


def make_ric(prefix17: str = "11010519800101001") -> str:
    return prefix17 + ric.calc_check_digit(prefix17 + "0")


def pdf_bytes(text: str = "KYC test document") -> bytes:
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, invariant=1)
    c.drawString(72, 720, text)
    c.save()
    return buf.getvalue()


def png_bytes() -> bytes:
    import struct
    import zlib

    raw = b"\x00\xff\x00\x00"
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


INSTITUTION = {
    "name": "瀚海鼎盛投资有限公司", "uscc": make_uscc(), "client_type": "enterprise",
    "registered_address": "上海市浦东新区世纪大道100号", "established": "2012-05-01",
    "license_valid_until": "9999-12-31", "legal_rep_name": "郑远航", "legal_rep_id": make_ric(),
    "legal_rep_id_valid_until": (dt.date.today() + dt.timedelta(days=3650)).isoformat(),
    "authorised_traders": "李明\n赵强", "beneficial_owners": "郑远航,60%\n钱嘉禾,40%",
}
FINANCIALS = {"net_assets": "8000万", "financial_assets": "0.3亿", "investment_years": "5"}


def answers(level: str = "top") -> dict:
    from otclab.kyc.fields import QUESTIONNAIRE

    pick = -1 if level == "top" else 0
    return {q["name"]: q["choices"][pick][0] for q in QUESTIONNAIRE}


def reviewers() -> dict:
    return {r: Identity.of_groups(n, [r]) for r, n in
            (("sales", "sam.sales"), ("operations", "olga.ops"), ("compliance", "carl.comp"), ("risk", "rita.risk"))}


def new_case(store, counterparty_id="CP-KYC1", username="client.hanhai", institution=None, financials=None,
             quest="top", docs=True):
    """An invited, redeemed case with every step saved and every document uploaded (not submitted)."""
    from otclab.kyc import service as K

    inst = {**INSTITUTION, **(institution or {})}
    inv = K.invite(store, institution=inst["name"], uscc=inst["uscc"], contact_name="钱嘉禾",
                   contact="qian@example.com", invited_by="sam.sales", counterparty_id=counterparty_id)
    case_id = K.redeem(store, inv.code, username)
    K.save_section(store, case_id, "institution", inst, username)
    K.save_section(store, case_id, "financials", {**FINANCIALS, **(financials or {})}, username)
    K.save_section(store, case_id, "questionnaire", answers(quest), username)
    if docs:
        for d in K.required_documents(inst["client_type"]):
            K.upload(store, case_id, d["kind"], f"{d['kind']}.pdf", pdf_bytes(d["label_en"]), username)
    return case_id


def approve_all(store, case_id, who=None):
    """Every reviewer approves in turn (compliance clears open hits as false positives first)."""
    from otclab.kyc import service as K

    who = who or reviewers()
    for role in ("sales", "operations", "compliance", "risk"):
        if role == "compliance":
            for h in K.view(store, case_id).hits:
                if h["decision"] is None:
                    K.decide_hit(store, case_id, h["hit_id"], "false_positive", who[role].name, "不同主体 / different party")
        K.act(store, case_id, "approve", who[role], f"{role} ok")
    return K.view(store, case_id)


def client_credentials(pki):
    """The demo PKI's ``client`` party (its PKCS#12, password ``demo``): the client's own certificate."""
    from otclab.esign.pki import load_credentials

    return load_credentials(pki / "client.p12", None, "demo")


def sign_all(store, case_id, pki, by="client.hanhai"):
    """The client signs every issued agreement of ``case_id`` with the demo PKI's client party
    (what a client does before it may trade); returns the signed agreements."""
    from otclab.kyc import service as K

    cred, trust = client_credentials(pki), K.trust_from_pki(pki)
    return [K.sign_agreement(store, case_id, r.kind, cred, trust, by=by) for r in K.agreements(store, case_id)
            if r.state == "issued"]


def agreements_file(folder, kinds=None, optional=()):
    """A copy of the shipped agreements file holding only ``kinds`` (default all), those in
    ``optional`` not required: for ``OTCLAB_KYC_AGREEMENTS``."""
    import re

    from otclab.kyc.agreements import AGREEMENTS_FILE

    head, *blocks = AGREEMENTS_FILE.read_text(encoding="utf-8").split("[[agreement]]")
    keep = []
    for b in blocks:
        kind = re.search(r'kind = "([a-z_0-9]+)"', b).group(1)
        if kinds is None or kind in kinds:
            keep.append(b.replace("required = true", "required = false") if kind in optional else b)
    name = "agreements-" + "-".join(kinds or ["all"]) + ("-opt-" + "-".join(optional) if optional else "") + ".toml"
    path = folder / name
    path.write_text(head + "".join("[[agreement]]" + b for b in keep), encoding="utf-8")
    return path
