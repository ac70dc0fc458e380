"""Keys and X.509 certificates: loading, purpose/validity/revocation checks, a demo PKI and TSA."""
from .checks import PURPOSES, TrustStore, check_certificate
from .load import Credentials, load_certificates, load_credentials, load_crls

__all__ = [
    "PURPOSES",
    "TrustStore",
    "check_certificate",
    "Credentials",
    "load_certificates",
    "load_credentials",
    "load_crls",
]
