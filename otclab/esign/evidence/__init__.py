"""Append-only evidence log: RFC 9162 Merkle tree, proofs, signed checkpoints, SQLite/PostgreSQL."""
from .checkpoint import Checkpoint
from .log import EvidenceLog, Receipt, verify_consistency_proof, verify_inclusion_proof

__all__ = ["Checkpoint", "EvidenceLog", "Receipt", "verify_consistency_proof", "verify_inclusion_proof"]
