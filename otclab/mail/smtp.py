"""One e-mail over SMTP (stdlib ``smtplib``): the message built from a queue row, and its sending.

``send`` connects to the configured server (STARTTLS and login when set), hands the message over
and returns nothing; it raises ``MailError`` with ``retryable`` telling a passing failure (server
down or unreachable, a timeout, a 4xx answer) from a final one (a 5xx refusal of the recipient or
the sender, a failed login), which retrying cannot mend.
"""
from __future__ import annotations

import mimetypes
import smtplib
import socket
import ssl
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path

from .config import SmtpSettings


class MailError(Exception):
    def __init__(self, message: str, retryable: bool):
        super().__init__(message)
        self.retryable = retryable


def build_message(row: dict, sender: str, root: Path) -> EmailMessage:
    """The message of a ``mail_queue`` row; attachments read from ``root`` (the documents
    folder). The Message-ID is the row's, the same on every attempt."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = row["to_addr"]
    msg["Subject"] = row["subject"]
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = row["message_id"]
    msg.set_content(row["body"])
    for a in row.get("attachments") or []:
        data = (Path(root) / a["path"]).read_bytes()
        ctype = mimetypes.guess_type(a["name"])[0] or "application/octet-stream"
        maintype, subtype = ctype.split("/", 1)
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=a["name"])
    return msg


def send(settings: SmtpSettings, msg: EmailMessage) -> None:
    """Hand ``msg`` to the SMTP server of ``settings``; ``MailError`` when it is not taken."""
    if not settings.host or not settings.sender:
        raise MailError("no SMTP server configured ([smtp] host and from in the mail settings)", True)
    try:
        with smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_s) as s:
            if settings.starttls:
                s.starttls(context=ssl.create_default_context())
            if settings.user:
                s.login(settings.user, settings.password or "")
            s.send_message(msg)
    except smtplib.SMTPAuthenticationError as e:
        raise MailError(f"SMTP login refused: {e.smtp_code} {e.smtp_error!r}", False) from None
    except smtplib.SMTPRecipientsRefused as e:
        codes = [c for c, _ in e.recipients.values()]
        raise MailError(f"recipient refused: {e.recipients}", not any(500 <= c < 600 for c in codes)) from None
    except smtplib.SMTPResponseException as e:
        raise MailError(f"SMTP {e.smtp_code}: {e.smtp_error!r}", not 500 <= e.smtp_code < 600) from None
    except (smtplib.SMTPException, OSError, socket.timeout, ssl.SSLError) as e:
        raise MailError(f"SMTP server {settings.host}:{settings.port} not reachable: {type(e).__name__}: {e}",
                        True) from None
