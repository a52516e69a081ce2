"""pare: make container images small, and prove what that buys."""

__version__ = "0.1.0"
