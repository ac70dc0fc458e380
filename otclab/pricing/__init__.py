"""Pricing requests: a template + terms + market (+ state), priced by an engine, with Greeks."""
from .request import PricingRequest, parse_request
from .price import PriceResult, price, price_many
from .solve import solve

__all__ = ["PricingRequest", "parse_request", "PriceResult", "price", "price_many", "solve"]
