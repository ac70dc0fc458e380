"""The book: many live contracts priced together, with Greeks, scenario grids and scale-out."""
from .pricing import GREEK_SCENARIOS, price_book

__all__ = ["price_book", "GREEK_SCENARIOS"]
