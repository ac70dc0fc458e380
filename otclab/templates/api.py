"""What template notebooks import: fields, errors, schedules, closed forms and validation helpers.

``from otclab.templates.api import *`` in a template's cells keeps them short and stable: the
names here are the template authors' contract.
"""
from ..core import schedules
from ..core.dates import act365, add_months, parse_date
from ..core.errors import TermsError
from ..engines.pde.grid import average_nodes, fraction_above, fraction_below, lagrange3
from .notebook import check_close, check_fused, load_here, record
from .schema import REQUIRED, Field

__all__ = ["Field", "REQUIRED", "TermsError", "schedules", "act365", "add_months", "parse_date",
           "record", "check_close", "check_fused", "load_here", "fraction_above", "fraction_below",
           "average_nodes", "lagrange3"]
