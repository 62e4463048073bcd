"""Channels: where messages enter and leave. `base` is what every channel offers; one package each.

This module is the one place that picks the channel: a second provider is a sibling package of
`twilio/`, its webhook routes under `http/`, and its settings.
"""

from __future__ import annotations

from bot.channels import twilio as _channel
from bot.channels.base import Sender
from bot.settings import Settings


def make_sender(settings: Settings) -> Sender:
    """The sender for outbound messages: the channel's API, or the dry run without credentials."""
    return _channel.make_sender(settings)


def quiet_sdk_logs() -> None:
    """Keep the channel's own library from logging full phone numbers."""
    _channel.quiet_sdk_logs()
