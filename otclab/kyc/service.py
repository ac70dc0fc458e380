"""The KYC service: the one API the client form, the reviewers' views, the CLI and booking use.

``store`` is an otclab ``Store``; ``by`` a user name; ``identity`` an ``otclab.access.Identity``.
User errors are ``OtcError`` subclasses whose message names the field and what is allowed.

Invitations: ``invite``, ``redeem``, ``case_for_user``. The form: ``FORM``, ``QUESTIONNAIRE``,
``required_documents``, ``check_field`` (pure, as-you-type), ``save_section``, ``upload``,
``submit``. Review: ``queue``, ``view``, ``CHECKS_BY_ROLE``, ``decide_hit``, ``act``, ``report``.
Trading: ``client_status``, ``check_counterparties``, ``require_onboarded``, ``import_clients``,
``suspend``. Screening lists: ``load_lists``, ``register_list``, ``rescreen``.
Agreements (signed online once a case is approved): ``AGREEMENTS`` (the definitions),
``issue_agreements``, ``agreements``, ``unsigned_agreements``, ``agreements_failure``,
``sign_agreement`` (the client's own certificate), ``sign_agreements_online`` (the logged-in
client, an event certificate per signature), ``agreement_trust``, ``trust_from_pki``.
"""
from __future__ import annotations

from .agreements import AgreementError, AgreementRef, definitions, event_credentials, trust_from_pki
from .agreements import issue as issue_agreements
from .agreements import issue_failure as agreements_failure
from .agreements import sign as sign_agreement
from .agreements import sign_online as sign_agreements_online
from .agreements import status as agreements
from .agreements import trust_store as agreement_trust
from .agreements import unsigned as unsigned_agreements
from .cases import (ACTIONS, CHECKS_BY_ROLE, ROLE_STEP, STATES, CaseError, SubmitRefused, act, decide_hit,
                    queue, save_section, submit, view)
from .clients import (OnboardingRefused, check_counterparties, client_status, clients, import_clients,
                      parse_import, require_onboarded, suspend)
from .documents import MAX_BYTES, DocumentError, upload
from .evidence import entries as evidence_entries
from .fields import CLIENT_TYPES, DOCUMENTS, FORM, QUESTIONNAIRE, Check, check_field, required_documents
from .invitations import InvitationError, case_for_user, invite, redeem
from .model import CaseSummary, CaseView, DocumentRef, Invitation, ReportRef, Status
from .report import report
from .screen import current_lists, register_list, rescreen
from .screening import load_lists

__all__ = [
    "AgreementError", "AgreementRef", "agreement_trust", "agreements", "agreements_failure", "definitions",
    "event_credentials", "issue_agreements", "sign_agreement", "sign_agreements_online", "trust_from_pki",
    "unsigned_agreements", "ACTIONS", "CHECKS_BY_ROLE", "CLIENT_TYPES", "DOCUMENTS", "FORM", "MAX_BYTES", "QUESTIONNAIRE", "ROLE_STEP",
    "STATES", "CaseError", "CaseSummary", "CaseView", "Check", "DocumentError", "DocumentRef", "Invitation",
    "InvitationError", "OnboardingRefused", "ReportRef", "Status", "SubmitRefused", "act", "case_for_user",
    "check_counterparties", "check_field", "client_status", "clients", "current_lists", "decide_hit",
    "evidence_entries", "import_clients", "invite", "load_lists", "parse_import", "queue", "redeem",
    "register_list", "report", "require_onboarded", "required_documents", "rescreen", "save_section", "submit",
    "suspend", "upload", "view",
]
