"""PAdES signing and validation of PDFs with pyHanko (visible Chinese seal, RFC 3161 timestamps)."""
from .sign import SealSpec, sign_pdf
from .verify import verify_pdf

__all__ = ["SealSpec", "sign_pdf", "verify_pdf"]
