"""An inbound text as the carrier hands it to us, checked and normalised."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

import phonenumbers

_SID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
OPT_OUT_TYPES = frozenset({"STOP", "HELP", "START"})
MAX_MEDIA = 10  # Twilio delivers at most ten media items with one message


class BadInbound(ValueError):
    """The request cannot be an inbound message; the reason is safe to return to the caller."""


@dataclass(frozen=True)
class Media:
    url: str
    content_type: str | None


@dataclass(frozen=True)
class InboundMessage:
    message_sid: str
    sender: str  # E.164
    recipient: str  # our number or short code, as the carrier gave it
    body: str
    received_at: datetime
    media: tuple[Media, ...] = ()
    opt_out_type: str | None = None  # Twilio Advanced Opt-Out's own classification
    account_sid: str | None = None
    simulated: bool = False  # from `smsbot chat`: replies are recorded, never sent
    messaging_service_sid: str | None = None
    extra: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)


@lru_cache(maxsize=65536)  # subscribers text again and again; parsing a number is not free
def to_e164(raw: str) -> str:
    """Normalise a phone number given in international form; raise BadInbound otherwise."""
    text = raw.strip()
    if text.startswith("tel:"):
        text = text[4:]
    if not text.startswith("+"):
        raise BadInbound("From must be a phone number in international (E.164) form, starting with +")
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException as exc:
        raise BadInbound("From is not a phone number") from exc
    if not phonenumbers.is_possible_number(number):
        raise BadInbound("From is not a possible phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@lru_cache(maxsize=65536)
def region_of(phone: str) -> str | None:
    """The ISO region of a number ("US", "CA", "GB"), or None when it cannot be placed."""
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(phone, None))
    except phonenumbers.NumberParseException:
        return None


def parse_form(form: Mapping[str, str], received_at: datetime) -> InboundMessage:
    """Build an InboundMessage from Twilio's webhook parameters."""
    sid = (form.get("MessageSid") or form.get("SmsMessageSid") or form.get("SmsSid") or "").strip()
    if not sid:
        raise BadInbound("MessageSid is missing")
    if not _SID.match(sid):
        raise BadInbound("MessageSid is malformed")
    raw_from = form.get("From")
    if not raw_from:
        raise BadInbound("From is missing")
    sender = to_e164(raw_from)

    # PostgreSQL text cannot hold NUL; keep its place visible rather than dropping it silently.
    body = form.get("Body", "").replace("\x00", "\ufffd")

    media: list[Media] = []
    try:
        count = int(form.get("NumMedia") or 0)
    except ValueError as exc:
        raise BadInbound("NumMedia is not a number") from exc
    for index in range(min(max(count, 0), MAX_MEDIA)):
        url = form.get(f"MediaUrl{index}")
        if url:
            media.append(Media(url, form.get(f"MediaContentType{index}") or None))

    opt_out_type = (form.get("OptOutType") or "").strip().upper() or None
    if opt_out_type not in OPT_OUT_TYPES:
        opt_out_type = None

    return InboundMessage(
        message_sid=sid,
        sender=sender,
        recipient=(form.get("To") or "").strip(),
        body=body,
        received_at=received_at,
        media=tuple(media),
        opt_out_type=opt_out_type,
        account_sid=form.get("AccountSid") or None,
        messaging_service_sid=form.get("MessagingServiceSid") or None,
    )


def mask_phone(phone: str) -> str:
    """A phone number fit for a log line: country code and last two digits only."""
    if len(phone) <= 6:
        return "***"
    return f"{phone[:3]}{'*' * (len(phone) - 5)}{phone[-2:]}"
