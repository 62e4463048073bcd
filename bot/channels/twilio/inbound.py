"""Twilio's webhook forms: an inbound message, or a delivery status callback, in our own shapes."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime

from bot.channels.base import StatusReport
from bot.channels.twilio.errors import OPTED_OUT_AT_CARRIER
from bot.domain.inbound import BadInbound, InboundMessage, Media, safe_text
from bot.domain.phones import to_e164

_SID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_REF = re.compile(r"[A-Za-z0-9_.-]{1,100}")  # ours: "<MessageSid>.<n>", "r<run>.<step>.<n>.<hex>"
_STATUS = re.compile(r"[a-z_-]{1,20}")
OPT_OUT_TYPES = frozenset({"STOP", "HELP", "START"})  # Advanced Opt-Out's classification
MAX_MEDIA = 10  # Twilio delivers at most ten media items with one message


def parse_form(form: Mapping[str, str], received_at: datetime) -> InboundMessage:
    """Build an InboundMessage from Twilio's webhook parameters; BadInbound says what is wrong."""
    sid = (form.get("MessageSid") or form.get("SmsMessageSid") or form.get("SmsSid") or "").strip()
    if not sid:
        raise BadInbound("MessageSid is missing")
    if not _SID.fullmatch(sid):
        raise BadInbound("MessageSid is malformed")
    raw_from = form.get("From")
    if not raw_from:
        raise BadInbound("From is missing")
    opt_out_type = (form.get("OptOutType") or "").strip().upper() or None
    return InboundMessage(
        message_sid=sid,
        sender=to_e164(raw_from),
        recipient=(form.get("To") or "").strip(),
        body=safe_text(form.get("Body", "")),
        received_at=received_at,
        media=_media(form),
        opt_out_type=opt_out_type if opt_out_type in OPT_OUT_TYPES else None,
        account_sid=form.get("AccountSid") or None,
        messaging_service_sid=form.get("MessagingServiceSid") or None,
    )


def _media(form: Mapping[str, str]) -> tuple[Media, ...]:
    try:
        count = int(form.get("NumMedia") or 0)
    except ValueError as exc:
        raise BadInbound("NumMedia is not a number") from exc
    media = []
    for index in range(min(max(count, 0), MAX_MEDIA)):
        url = form.get(f"MediaUrl{index}")
        if url:
            media.append(Media(url, form.get(f"MediaContentType{index}") or None))
    return tuple(media)


def parse_status(form: Mapping[str, str], ref: str | None) -> StatusReport:
    """A status callback's form (and our ref from its URL) as a StatusReport."""
    sid = (form.get("MessageSid") or form.get("SmsSid") or "").strip()
    status = (form.get("MessageStatus") or form.get("SmsStatus") or "").strip().lower()
    if not sid or not status:
        raise BadInbound("MessageSid and MessageStatus are required")
    if not _SID.fullmatch(sid) or not _STATUS.fullmatch(status):
        raise BadInbound("MessageSid or MessageStatus is malformed")
    if ref and not _REF.fullmatch(ref):
        raise BadInbound("ref is malformed")
    try:
        error_code = int(form["ErrorCode"]) if form.get("ErrorCode") else None
    except ValueError as exc:
        raise BadInbound("ErrorCode is not a number") from exc
    if error_code is not None and not 0 <= error_code < 2**31:  # Twilio's codes have five digits
        raise BadInbound("ErrorCode is out of range")
    return StatusReport(
        sid=sid,
        status=status,
        ref=ref or None,
        error_code=error_code,
        opted_out=error_code == OPTED_OUT_AT_CARRIER,
    )
