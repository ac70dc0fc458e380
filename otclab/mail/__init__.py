"""Outbound e-mail: settings and addresses (``config``), the persisted queue and its worker
(``queue``), the SMTP exchange (``smtp``, stdlib ``smtplib``)."""
