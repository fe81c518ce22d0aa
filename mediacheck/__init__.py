"""mediacheck: a case tracker for newsroom verification desks."""

__version__ = "0.1.0"
