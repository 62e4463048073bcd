"""A local stand-in for Twilio's Messages API (no internet here): the one fake the project allows.

It speaks the protocol the SDK speaks: POST /2010-04-01/Accounts/{AccountSid}/Messages.json,
form-encoded, HTTP Basic auth with the account SID and auth token, JSON resources and JSON errors
with Twilio's error codes.
"""

from __future__ import annotations

import asyncio
import base64
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

MESSAGES = "/2010-04-01/Accounts/{account}/Messages.json"


@dataclass
class FakeTwilio:
    account_sid: str
    auth_token: str
    received: list[dict[str, Any]] = field(default_factory=list)
    opted_out: set[str] = field(default_factory=set)  # numbers that texted STOP at the carrier
    fail_next: list[int] = field(default_factory=list)  # HTTP statuses to answer next, in order
    delay: float = 0.0  # seconds before answering a create, as a busy API would
    create_after: float = 0.0  # seconds before a create is taken at all (until then, not listed)
    created: list[dict[str, Any]] = field(default_factory=list)  # every message accepted, as listed
    # Cleared: creates are accepted but not answered (a stuck API; the sender dies waiting).
    answering: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self.answering.set()

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post(MESSAGES, self.create_message)
        app.router.add_get(MESSAGES, self.list_messages)
        return app

    def accepted(self) -> list[dict[str, Any]]:
        """What the API accepted (what a handset would receive), in order."""
        return list(self.created)

    def _authorised(self, request: web.Request) -> bool:
        auth = request.headers.get("Authorization", "")
        expected = "Basic " + base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return auth == expected and request.match_info["account"] == self.account_sid

    async def list_messages(self, request: web.Request) -> web.Response:
        """GET Messages.json: newest first, filtered by To and From, one page."""
        if not self._authorised(request):
            return self._error(401, 20003, "Authenticate")
        to, sender = request.query.get("To"), request.query.get("From")
        size = int(request.query.get("PageSize", "50"))
        found = [
            m
            for m in reversed(self.created)
            if (not to or m["to"] == to) and (not sender or m["from"] == sender)
        ][:size]
        uri = f"/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        return web.json_response(
            {
                "messages": found,
                "first_page_uri": uri,
                "next_page_uri": None,
                "previous_page_uri": None,
                "page": 0,
                "page_size": size,
                "start": 0,
                "end": len(found),
                "uri": uri,
            }
        )

    def _error(self, status: int, code: int, message: str) -> web.Response:
        body = {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        }
        return web.json_response(body, status=status)

    async def create_message(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self._error(401, 20003, "Authenticate")
        form = await request.post()
        params: dict[str, Any] = {
            key: form.getall(key) if key == "MediaUrl" else form.get(key) for key in form
        }
        self.received.append(params)
        if self.fail_next:
            status = self.fail_next.pop(0)
            code = 20429 if status == 429 else 20500
            return self._error(
                status, code, "Too Many Requests" if status == 429 else "Internal Server Error"
            )
        to = str(params.get("To") or "")
        if not to:
            return self._error(400, 21604, "A 'To' phone number is required.")
        if not params.get("From") and not params.get("MessagingServiceSid"):
            return self._error(400, 21603, "A 'From' phone number is required.")
        if not params.get("Body") and not params.get("MediaUrl"):
            return self._error(400, 21602, "Message body is required.")
        if to in self.opted_out:
            return self._error(400, 21610, "Attempt to send to unsubscribed recipient")
        sid = "SM" + uuid.uuid4().hex
        now = datetime.now(UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")
        resource: dict[str, object] = {
            "sid": sid,
            "account_sid": self.account_sid,
            "to": to,
            "from": params.get("From"),
            "messaging_service_sid": params.get("MessagingServiceSid"),
            "body": params.get("Body"),
            "status": "queued" if params.get("From") else "accepted",
            "num_media": str(len(params.get("MediaUrl") or [])),
            "num_segments": "1",
            "direction": "outbound-api",
            "api_version": "2010-04-01",
            "date_created": now,
            "date_updated": now,
            "date_sent": None,
            "error_code": None,
            "error_message": None,
            "price": None,
            "price_unit": "USD",
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
            "subresource_uris": {},
            "media_urls": params.get("MediaUrl") or [],  # not in Twilio's resource; for tests
            "status_callback": params.get("StatusCallback"),  # likewise
        }
        if self.create_after:
            await asyncio.sleep(self.create_after)  # a slow API: not taken, nor listed, until now
        self.created.append(resource)  # accepted: from here on it would reach the handset
        if self.delay:
            await asyncio.sleep(self.delay)  # the answer is slow; the message is already taken
        await self.answering.wait()
        return web.json_response(resource, status=201)
