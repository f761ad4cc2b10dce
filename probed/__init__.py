"""probed: a self-hosted uptime probe daemon."""

__version__ = "0.2.0"
