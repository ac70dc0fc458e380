"""What the KYC browser test needs besides the browser: the desk's logins (a basic-auth credentials
file for ``panel serve`` and the users TOML file ``otclab.access`` reads the reviewers' groups
from), small valid documents to upload (a PDF made with reportlab, a PNG made with Pillow), and
one ``panel serve`` process serving both KYC apps (the client form and the review page)."""
from __future__ import annotations

import io
import json
from pathlib import Path

from otclab.dashboards.panel_server import ROOT, PanelServer, app_url

CLIENT_APP = ROOT / "dashboards" / "kyc_client.py"
REVIEW_APP = ROOT / "dashboards" / "kyc_review.py"


def write_logins(folder: Path, users: dict[str, tuple[str, list[str]]]) -> tuple[Path, Path]:
    """``users``: name -> (password, groups). Writes ``logins.json`` (Panel's basic auth: user ->
    password) and ``users.toml`` (``[users.NAME] groups = [...]``); returns both paths."""
    creds = folder / "logins.json"
    creds.write_text(json.dumps({u: pw for u, (pw, _g) in users.items()}), encoding="utf-8")
    toml = folder / "users.toml"
    toml.write_text("".join(f'[users.{u}]\ngroups = [{", ".join(json.dumps(g) for g in gs)}]\n\n'
                            for u, (_pw, gs) in users.items()), encoding="utf-8")
    return creds, toml


def small_pdf(title: str, lines: tuple[str, ...] = ()) -> bytes:
    """A one-page PDF (reportlab) with ``title`` and a few lines: what a scanned document's PDF is
    to the upload checks (content type by the ``%PDF-`` header and a parseable file)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    c.setTitle(title)
    c.drawString(72, 770, title)
    for i, line in enumerate(lines):
        c.drawString(72, 740 - 16 * i, line)
    c.showPage()
    c.save()
    return buf.getvalue()


def small_png(width: int = 64, height: int = 40, colour=(200, 30, 30)) -> bytes:
    """A small PNG image (Pillow): a photographed ID card stands in as an image upload."""
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buf, format="PNG")
    return buf.getvalue()


class KycServers(PanelServer):
    """One ``panel serve`` serving both KYC apps on a free localhost port: ``client_url`` (the
    client's form) and ``review_url`` (the reviewers' page); log in with
    ``panel_server.login(page, servers.for_app(APP), user, password)``."""

    name = "panel serve (KYC apps)"

    def __init__(self, store: str, basic_auth: Path, env: dict | None = None, log: Path | None = None):
        super().__init__(store, app=CLIENT_APP, basic_auth=basic_auth, env=env, log=log)
        # panel serve takes several app scripts before its options: the review app beside the form
        i = self.cmd.index(str(CLIENT_APP))
        self.cmd.insert(i + 1, str(REVIEW_APP))
        self.client_url = app_url(CLIENT_APP, "127.0.0.1", self.port)
        self.review_url = app_url(REVIEW_APP, "127.0.0.1", self.port)

    def for_app(self, app: Path) -> PanelServer:
        """A view of this server whose ``app``/``url`` name ``app`` (what ``login`` opens)."""
        view = object.__new__(PanelServer)
        view.__dict__.update(self.__dict__)
        view.app, view.url = app, app_url(app, "127.0.0.1", self.port)
        return view
