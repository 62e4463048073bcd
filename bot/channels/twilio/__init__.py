"""Twilio, and any provider that speaks its API: webhook forms, signatures, TwiML, REST sending."""

from __future__ import annotations

import logging

from bot.channels.base import Sender
from bot.channels.dryrun import DryRunSender
from bot.settings import Settings

log = logging.getLogger(__name__)


def make_sender(settings: Settings) -> Sender:
    """Twilio's REST API with credentials and a sending number, else the dry run."""
    if not settings.can_send:
        log.warning(
            "no Twilio credentials and sending number: dry run, messages are recorded as simulated "
            "(set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER to send)"
        )
        return DryRunSender()
    from bot.channels.twilio.sender import TwilioSender

    assert settings.twilio_account_sid and settings.twilio_auth_token
    return TwilioSender(
        settings.twilio_account_sid,
        settings.twilio_auth_token,
        from_number=settings.from_number,
        messaging_service_sid=settings.messaging_service_sid,
        api_url=settings.twilio_api_url,
        public_url=settings.public_url,
        timeout=settings.api_timeout,
    )


def quiet_sdk_logs() -> None:
    """The Twilio SDK logs every request at INFO, with the recipient's full number in the query."""
    logging.getLogger("twilio").setLevel(logging.WARNING)
