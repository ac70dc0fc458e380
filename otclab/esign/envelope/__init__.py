"""Encrypted, signed exchange envelopes (AES-256-GCM, RSA-OAEP-SHA256, RSA-PSS) with replay protection."""
from .open import Opened, open_envelope
from .replay import ReplayStore
from .seal import seal_envelope

__all__ = ["Opened", "ReplayStore", "open_envelope", "seal_envelope"]
