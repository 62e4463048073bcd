"""Sending texts through Twilio's REST API with the official SDK's async client.

The API base URL is configurable, so any Twilio-compatible provider works. A send returns a plain
result, never raises: the worker decides what a failure means (21610: the number opted out at the
carrier; 429, 5xx and network errors: try again later).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import urlencode

import aiohttp
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from bot.channels.base import Found, OutboundMessage, SendResult
from bot.channels.twilio.errors import OPTED_OUT_AT_CARRIER
from bot.channels.twilio.twiml import status_callback_url
from bot.domain.phones import mask_phone

log = logging.getLogger(__name__)
TWILIO_API_URL = "https://api.twilio.com"


class FormEncodedClient(AsyncTwilioHttpClient):  # type: ignore[misc]  # the SDK has no types
    """The SDK's async HTTP client, with its form encoded once as text: handed a dict, aiohttp
    builds a multipart writer (with a random boundary) for every message before finding that the
    form is plain and encoding it after all."""

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        **options: Any,
    ) -> Any:
        if data:
            body = urlencode(data, doseq=True)  # repeated keys for lists, as Twilio reads MediaUrl
            headers = {**(headers or {}), "Content-Type": "application/x-www-form-urlencoded"}
            return await super().request(method, url, params, body, headers, **options)
        return await super().request(method, url, params, data, headers, **options)


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
        public_url: str | None = None,  # where delivery reports come back; None: no reports
        timeout: float = 15.0,
    ) -> None:
        if not (from_number or messaging_service_sid):
            raise ValueError("a sending number or a Messaging Service SID is required")
        # The SDK's async client takes a timeout but never applies it: ours is kept here and enforced.
        self._client = Client(account_sid, auth_token, http_client=FormEncodedClient())
        self._timeout = timeout
        self._client.api.base_url = api_url.rstrip("/")
        self._from = from_number
        self._service = messaging_service_sid
        self._public_url = public_url

    def _options(self, message: OutboundMessage) -> dict[str, object]:
        options: dict[str, object] = {"to": message.to, "body": message.body}
        if self._service:
            options["messaging_service_sid"] = self._service
        else:
            options["from_"] = self._from
        if message.media_urls:
            options["media_url"] = list(message.media_urls)
        if self._public_url:
            options["status_callback"] = status_callback_url(self._public_url, message.ref)
        return options

    async def send(self, message: OutboundMessage) -> SendResult:
        try:
            async with asyncio.timeout(self._timeout):  # no task of its own per message, as wait_for
                sent = await self._client.messages.create_async(**self._options(message))
        except TwilioRestException as exc:
            retry = exc.status == 429 or exc.status >= 500
            log.warning("send %s to %s failed: %s %s", message.ref, mask_phone(message.to), exc.code, exc.msg)
            opted_out = exc.code == OPTED_OUT_AT_CARRIER
            return SendResult(None, "failed", exc.code, str(exc.msg), retry=retry, opted_out=opted_out)
        except aiohttp.ClientConnectorError as exc:  # never reached the API: safe to try again
            log.warning("send %s to %s: %s", message.ref, mask_phone(message.to), type(exc).__name__)
            return SendResult(None, "failed", None, type(exc).__name__, retry=True)
        except (aiohttp.ClientError, TimeoutError) as exc:  # sent, unanswered: it may have been taken
            log.warning(
                "send %s to %s: %s; looked up later", message.ref, mask_phone(message.to), type(exc).__name__
            )
            return SendResult(None, "dispatching", None, type(exc).__name__, unknown=True)
        return SendResult(sent.sid, str(sent.status or "queued"))

    async def recent(self, to: str) -> list[Found]:
        options: dict[str, object] = {"to": to, "limit": 50}
        if self._from:
            options["from_"] = self._from
        listed = await asyncio.wait_for(self._client.messages.list_async(**options), self._timeout)
        return [Found(m.sid or "", m.body or "", str(m.status or ""), m.date_created) for m in listed]

    async def close(self) -> None:
        http = self._client.http_client
        if isinstance(http, AsyncTwilioHttpClient):
            await http.close()
