"""Sending texts: Twilio's REST API through the official SDK, or a dry run that only records.

The API base URL is configurable, so any Twilio-compatible provider works. A send returns a plain
result, never raises: the worker decides what a failure means (21610: the number opted out at the
carrier; 429, 5xx and network errors: try again later).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

import aiohttp
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from bot.domain.inbound import mask_phone

log = logging.getLogger(__name__)
TWILIO_API_URL = "https://api.twilio.com"
OPTED_OUT_AT_CARRIER = 21610  # "Attempt to send to unsubscribed recipient"


@dataclass(frozen=True)
class OutboundMessage:
    ref: str  # our idempotency key for this message
    to: str  # E.164
    body: str
    media_urls: tuple[str, ...] = ()
    status_callback: str | None = None


@dataclass(frozen=True)
class SendResult:
    sid: str | None
    status: str  # the carrier's first status ("queued", "accepted"), "simulated", or "failed"
    error_code: int | None = None
    error_message: str | None = None
    retry: bool = False  # a temporary failure: the same message may be tried again later

    @property
    def opted_out(self) -> bool:
        return self.error_code == OPTED_OUT_AT_CARRIER


@dataclass(frozen=True)
class Found:
    """A message the carrier holds, as listed by its API."""

    sid: str
    body: str
    status: str
    created: datetime | None


class Sender(Protocol):
    async def send(self, message: OutboundMessage) -> SendResult: ...

    async def recent(self, to: str) -> list[Found]:
        """Messages recently sent to `to`, newest first: how a crashed hand-over is checked."""
        ...

    async def close(self) -> None: ...


class TwilioSender:
    """Messages API through the twilio SDK's async client, from a number or a Messaging Service."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        from_number: str | None = None,
        messaging_service_sid: str | None = None,
        api_url: str = TWILIO_API_URL,
        timeout: float = 15.0,
    ) -> None:
        if not (from_number or messaging_service_sid):
            raise ValueError("a sending number or a Messaging Service SID is required")
        self._client = Client(account_sid, auth_token, http_client=AsyncTwilioHttpClient(timeout=timeout))
        self._client.api.base_url = api_url.rstrip("/")
        self._from = from_number
        self._service = messaging_service_sid

    async def send(self, message: OutboundMessage) -> SendResult:
        options: dict[str, object] = {"to": message.to, "body": message.body}
        if self._service:
            options["messaging_service_sid"] = self._service
        else:
            options["from_"] = self._from
        if message.media_urls:
            options["media_url"] = list(message.media_urls)
        if message.status_callback:
            options["status_callback"] = message.status_callback
        try:
            sent = await self._client.messages.create_async(**options)
        except TwilioRestException as exc:
            retry = exc.status == 429 or exc.status >= 500
            log.warning("send %s to %s failed: %s %s", message.ref, mask_phone(message.to), exc.code, exc.msg)
            return SendResult(None, "failed", exc.code, str(exc.msg), retry=retry)
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("send %s to %s: %s", message.ref, mask_phone(message.to), type(exc).__name__)
            return SendResult(None, "failed", None, type(exc).__name__, retry=True)
        return SendResult(sent.sid, str(sent.status or "queued"))

    async def recent(self, to: str) -> list[Found]:
        options: dict[str, object] = {"to": to, "limit": 50}
        if self._from:
            options["from_"] = self._from
        listed = await self._client.messages.list_async(**options)
        return [Found(m.sid or "", m.body or "", str(m.status or ""), m.date_created) for m in listed]

    async def close(self) -> None:
        http = self._client.http_client
        if isinstance(http, AsyncTwilioHttpClient):
            await http.close()


@dataclass
class DryRunSender:
    """Without Twilio credentials: nothing leaves the machine; messages are recorded as simulated."""

    sent: list[OutboundMessage] = field(default_factory=list)

    async def send(self, message: OutboundMessage) -> SendResult:
        self.sent.append(message)
        return SendResult("SM" + hashlib.sha256(message.ref.encode()).hexdigest()[:32], "simulated")

    async def recent(self, to: str) -> list[Found]:
        return []  # nothing left the machine: sending again only records again

    async def close(self) -> None:
        return None
