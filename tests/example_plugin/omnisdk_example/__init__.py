"""omnisdk-example: the Example channel, a small complete plugin to learn from and copy."""

__all__ = ["__version__"]

__version__ = "0.1"
