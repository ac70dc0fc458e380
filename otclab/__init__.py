"""otclab: pricing, risk and operations platform for an OTC equity-derivatives desk.

The everyday entry points are importable from the top level (loaded on first use so that the
command line starts fast): ``price``, ``price_many``, ``solve``, ``MarketSnapshot``,
``list_templates``, ``get_template``, ``set_device``.
"""
__version__ = "0.1.0"

_LAZY = {
    "price": ("otclab.pricing", "price"),
    "price_many": ("otclab.pricing", "price_many"),
    "solve": ("otclab.pricing", "solve"),
    "MarketSnapshot": ("otclab.market.snapshot", "MarketSnapshot"),
    "list_templates": ("otclab.templates.loader", "list_templates"),
    "get_template": ("otclab.templates.loader", "get_template"),
    "set_device": ("otclab.core.backend", "set_device"),
}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'otclab' has no attribute {name!r}")


__all__ = list(_LAZY) + ["__version__"]
