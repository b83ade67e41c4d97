"""The sluice command line and the local runner."""

__version__ = "0.1.0"
