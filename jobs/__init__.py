"""claims-audit: audit cervical epidural steroid injection claims."""

__version__ = "0.1.0"
