"""Shared fixtures: one demo PKI, TSA and a dealer+client signed PDF per test session (keys are slow)."""
from __future__ import annotations

import pytest

from otclab.esign.pdfsign import SealSpec, sign_pdf
from otclab.esign.pdfsign.sample import sample_pdf
from otclab.esign.pki.demo import build_demo_pki
from otclab.esign.pki.tsa import LocalTimestampAuthority

SEAL_LINES = ["甲方（交易商）电子签章", "%(signer)s", "%(ts)s"]


@pytest.fixture(scope="session")
def pki():
    return build_demo_pki()


@pytest.fixture(scope="session")
def trust(pki):
    return pki.trust()


@pytest.fixture(scope="session")
def tsa(pki, trust):
    return LocalTimestampAuthority(pki.parties["tsa"], trust)


@pytest.fixture(scope="session")
def document():
    return sample_pdf(["Trade confirmation", "UTI CN0000000000ABC123", "Notional CNY 10,000,000"])


@pytest.fixture(scope="session")
def dealer_signed(pki, trust, tsa, document):
    return sign_pdf(document, pki.parties["dealer"].signer(), field_name="dealer", later_fields=["client"],
                    certify=True, timestamper=tsa, trust=trust, seal=SealSpec(lines=SEAL_LINES))


@pytest.fixture(scope="session")
def both_signed(pki, trust, tsa, dealer_signed):
    return sign_pdf(dealer_signed, pki.parties["client"].signer(), field_name="client", timestamper=tsa, trust=trust,
                    seal=SealSpec(lines=["乙方（客户）电子签章", "%(signer)s", "%(ts)s"]))
