"""Helpers for benchmarks/compare_peers.py: otclab vs QuantLib and pricelib on the same contracts.

QuantLib and pricelib are benchmark-only tools (never runtime dependencies of otclab); the modules
here import them lazily and the script says how to install them when they are missing.
"""
