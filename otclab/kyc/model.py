"""What the KYC service returns: plain frozen records an app can show as they are."""
from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Invitation:
    """A new invitation. ``code`` is shown once (to be sent to the contact) and stored only hashed."""

    id: str
    code: str
    institution: str
    uscc: str
    counterparty_id: str
    contact_name: str
    contact: str
    invited_by: str
    expires_at: dt.datetime


@dataclass(frozen=True)
class DocumentRef:
    """One stored version of an uploaded document."""

    id: int
    case_id: str
    kind: str
    version: int
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_by: str
    uploaded_at: dt.datetime
    valid_until: dt.date | None = None


@dataclass(frozen=True)
class CaseSummary:
    """A line of a reviewer's queue."""

    case_id: str
    institution: str
    uscc: str
    counterparty_id: str
    client_type: str | None
    state: str
    waiting_since: dt.datetime
    aml_level: str | None
    open_hits: int


@dataclass(frozen=True)
class CaseView:
    """Everything known about a case, for the client form, the reviewers' views and the report.

    ``facts``: {field: typed value} (latest saved); ``checks``: {field: Check dict};
    ``documents``: latest version per kind (DocumentRef) and ``document_versions`` all of them;
    ``missing``: what submission still lacks; ``questionnaire`` {score, c_level, ...};
    ``suitability`` {professional, eligible_otc, rules[...] with rule references};
    ``hits`` screening hits with score and decision; ``aml`` {level, points, factors};
    ``history`` [{seq, action, role, from_state, to_state, by, at, comment}];
    ``prepared_by`` who entered the case's data; ``approvals`` {role: user} of the current round.
    """

    case_id: str
    institution: str
    uscc: str
    counterparty_id: str
    username: str
    invited_by: str
    state: str
    step: str | None
    client_type: str | None
    facts: dict
    checks: dict
    documents: list
    document_versions: list
    required_documents: list
    missing: list
    questionnaire: dict | None
    suitability: dict | None
    hits: list
    aml: dict | None
    history: list
    prepared_by: list
    approvals: dict
    report: dict | None = None
    client: dict | None = None
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class ReportRef:
    """A sealed review report: where it is, its SHA-256, who sealed it, its evidence-log entry."""

    case_id: str
    path: str
    sha256: str
    size: int
    signer: str
    log_index: int | None
    created_at: dt.datetime


@dataclass(frozen=True)
class Status:
    """A counterparty's onboarding status as booking sees it. ``tradable`` False means a new trade
    is refused for ``reason``; ``status`` approved | suspended | rejected | closed | unknown."""

    counterparty_id: str
    status: str
    c_level: int | None
    eligible_otc: bool
    review_due: dt.date | None
    docs_valid_until: dt.date | None
    max_premium: float | None
    tradable: bool
    reason: str | None
    name: str | None = None
