"""Stateful workflows on the store: lifecycle, end of day (valuation, P&L explain, margin), demo data."""
