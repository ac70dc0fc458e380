"""Append-only evidence log: RFC 9162 Merkle tree, proofs checked against trusted roots, signed checkpoints."""
from .checkpoint import Checkpoint
from .log import EvidenceLog, Receipt
from .migrate import migrate_log
from .proofs import parse_proof, verify_consistency_proof, verify_inclusion_proof, verify_proof

__all__ = [
    "Checkpoint",
    "EvidenceLog",
    "Receipt",
    "migrate_log",
    "parse_proof",
    "verify_consistency_proof",
    "verify_inclusion_proof",
    "verify_proof",
]
