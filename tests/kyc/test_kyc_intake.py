"""Invitations and uploads: every bad input refused with the reason and nothing half-written; a
crash during an upload leaves no partial document."""
from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from kyc_support import make_uscc, new_case, pdf_bytes, png_bytes
from sqlalchemy import select, update

from otclab.kyc import service as K
from otclab.kyc.documents import orphans
from otclab.store import tables_kyc as T

ROOT = Path(__file__).resolve().parents[2]


def _invite(store, **kw):
    args = dict(institution="嘉禾瑞丰资产管理有限公司", uscc=make_uscc(), contact_name="林静", contact="lin@example.com",
                invited_by="sam.sales")
    return K.invite(store, **{**args, **kw})


def test_an_invitation_is_single_use_stored_hashed_and_expires(store):
    inv = _invite(store)
    with store.connect() as c:
        row = c.execute(select(T.kyc_invitations)).one()
    assert inv.code.replace("-", "") not in str(tuple(row)) and len(row.code_hash) == 64
    case = K.redeem(store, inv.code.lower(), "client.lin")          # typed in lower case: still the code
    assert K.case_for_user(store, "client.lin") == case and K.view(store, case).state == "draft"
    with pytest.raises(K.InvitationError, match="already used"):
        K.redeem(store, inv.code, "client.other")
    with pytest.raises(K.InvitationError, match="unknown invitation code"):
        K.redeem(store, "AAAA-BBBB-CCCC-DDDD", "client.x")
    old = _invite(store)
    with store.begin() as c:
        c.execute(update(T.kyc_invitations).where(T.kyc_invitations.c.invitation_id == old.id)
                  .values(expires_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)))
    with pytest.raises(K.InvitationError, match="expired"):
        K.redeem(store, old.code, "client.late")
    assert K.case_for_user(store, "client.late") is None and K.case_for_user(store, "client.other") is None


def test_an_invitation_with_a_wrong_uscc_is_refused(store):
    bad = make_uscc()[:-1] + ("A" if make_uscc()[-1] != "A" else "B")
    from otclab.core.errors import OtcError

    with pytest.raises(OtcError, match="check character"):
        _invite(store, uscc=bad)
    with store.connect() as c:
        assert c.execute(select(T.kyc_invitations)).all() == []


def test_uploads_are_typed_by_content_size_limited_and_versioned(store, tmp_path):
    case = new_case(store, docs=False)
    with pytest.raises(K.DocumentError, match="not a PDF, PNG or JPEG file by its content named .pdf"):
        K.upload(store, case, "business_license", "licence.pdf", b"PK\x03\x04 a zip file really", "client.hanhai")
    with pytest.raises(K.DocumentError, match="the content is PNG but the name ends in .pdf"):
        K.upload(store, case, "business_license", "licence.pdf", png_bytes(), "client.hanhai")
    with pytest.raises(K.DocumentError, match="over the limit"):
        K.upload(store, case, "business_license", "big.pdf", b"%PDF-1.4\n" + b"0" * K.MAX_BYTES + b"\n%%EOF", "client.hanhai")
    with pytest.raises(K.DocumentError, match="unknown document kind"):
        K.upload(store, case, "selfie", "me.png", png_bytes(), "client.hanhai")
    assert K.view(store, case).document_versions == []
    v1 = K.upload(store, case, "business_license", "licence.pdf", pdf_bytes("v1"), "client.hanhai")
    v2 = K.upload(store, case, "business_license", "licence-new.pdf", pdf_bytes("v2"), "client.hanhai")
    img = K.upload(store, case, "legal_rep_id", "id.png", png_bytes(), "client.hanhai")
    assert (v1.version, v2.version, img.version, img.content_type) == (1, 2, 1, "image/png")
    assert v1.sha256 != v2.sha256 and v1.size == len(pdf_bytes("v1"))
    view = K.view(store, case)
    assert [(d.kind, d.version) for d in view.documents] == [("business_license", 2), ("legal_rep_id", 1)]
    assert len(view.document_versions) == 3
    from otclab.kyc.documents import read

    assert read(store, v1) == pdf_bytes("v1") and read(store, v2) == pdf_bytes("v2")   # v1 never overwritten


def test_submission_lists_every_missing_item_and_writes_nothing(store):
    case = new_case(store, docs=False)
    checks = K.save_section(store, case, "institution", {"uscc": "91310115MA1H7GQK3X"}, "client.hanhai")
    assert checks["uscc"].level == "error"                 # shown at once, stored with its error
    assert K.view(store, case).checks["uscc"]["level"] == "error"
    with pytest.raises(K.SubmitRefused) as e:
        K.submit(store, case, "client.hanhai")
    items = " | ".join(e.value.items)
    assert "统一社会信用代码" in items and "校验码错误" in items
    for label in ("营业执照", "法定代表人身份证件", "授权书", "财务报表"):
        assert label in items
    v = K.view(store, case)
    assert v.state == "draft" and v.suitability is None and v.hits == []


CRASH = textwrap.dedent("""
    import os, signal, sys
    from otclab.store.db import Store
    from otclab.kyc import service as K
    st = Store(sys.argv[1])
    def die():
        sys.stdout.write("file written\\n"); sys.stdout.flush()
        os.kill(os.getpid(), signal.SIGKILL)
    from otclab.kyc.documents import upload
    upload(st, sys.argv[2], "authorisation", "auth.pdf", b"%PDF-1.4\\n" + os.urandom(4 << 20) + b"\\n%%EOF\\n",
           "client.hanhai", _after_file=die)
""")


def test_a_crash_during_an_upload_leaves_no_partial_document(store, tmp_path):
    case = new_case(store, docs=False)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    p = subprocess.run([sys.executable, "-c", CRASH, store.url.render_as_string(hide_password=False), case],
                       env=env, capture_output=True, text=True, timeout=120)
    assert p.returncode == -9 and "file written" in p.stdout
    v = K.view(store, case)
    assert [d for d in v.document_versions if d.kind == "authorisation"] == []
    assert "uploaded" not in [h["action"] for h in v.history]
    left = orphans(store)
    assert len(left) == 1 and left[0].stat().st_size > 4 << 20       # a whole file, but no row: not a document
    ref = K.upload(store, case, "authorisation", "auth.pdf", pdf_bytes("auth"), "client.hanhai")
    assert ref.version == 1
