"""smsbot: a self-hosted server for conversational SMS keyword programs."""

__version__ = "0.1.0"
