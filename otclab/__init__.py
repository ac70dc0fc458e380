"""otclab: pricing, risk and operations platform for an OTC equity-derivatives desk."""
__version__ = "0.1.0"
