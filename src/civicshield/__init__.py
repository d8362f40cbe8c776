"""CivicShield: one system for a city's small security team to defend a smart city."""

__all__ = ["__version__"]

__version__ = "0.1.0"
