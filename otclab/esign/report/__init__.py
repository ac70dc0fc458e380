"""Trade-repository reports: record from a trade record + the reporting dealer + an event, JSON and FpML 5
export, validation, submission."""
from .export import export_report
from .fpml import to_fpml
from .identifiers import validate_lei, validate_uscc
from .record import build_report
from .validate import validate_fpml, validate_json

__all__ = ["build_report", "export_report", "to_fpml", "validate_fpml", "validate_json", "validate_lei", "validate_uscc"]
