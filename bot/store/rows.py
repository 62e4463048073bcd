"""Row builders, one per kind of row, and the one way a stored subscriber becomes domain data."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from bot.domain.flow_runner import RunState
from bot.domain.gate import Purpose
from bot.domain.inbound import InboundMessage
from bot.domain.phones import region_of
from bot.domain.subscription import ConsentChange, Status
from bot.domain.voice import SubscriberState

Row = dict[str, Any]


def subscriber_state(row: Row) -> SubscriberState:
    return SubscriberState(
        phone=row["phone"],
        status=Status(row["status"]),
        language=row["language"],
        opt_in_source=row["opt_in_source"],
        opt_in_keyword=row["opt_in_keyword"],
        properties=row["properties"] or {},
        country=row.get("country"),
    )


def new_subscriber(phone: str, now: datetime) -> Row:
    return {
        "phone": phone,
        "status": Status.NEW.value,
        "country": region_of(phone),
        "properties": {},
        "created_at": now,
        "updated_at": now,
    }


def _message(subscriber_id: int, direction: str, body: str, media: list[str], now: datetime) -> Row:
    return {
        "subscriber_id": subscriber_id,
        "direction": direction,
        "body": body,
        "media_urls": media,
        "sid": None,
        "ref": None,
        "reply_to": None,
        "intent": None,
        "campaign_id": None,
        "purpose": None,
        "created_at": now,
        "updated_at": now,
    }


def inbound_message(subscriber_id: int, message: InboundMessage, intent: str, now: datetime) -> Row:
    return {
        **_message(subscriber_id, "inbound", message.body, [m.url for m in message.media], now),
        "sid": message.message_sid,
        "intent": intent,
        "status": "received",
        "created_at": message.received_at,
    }


def reply(
    subscriber_id: int, ref: str, body: str, media: tuple[str, ...], to: str, status: str, now: datetime
) -> Row:
    """A reply that goes out in the webhook's answer (TwiML): the carrier sends it at once."""
    return {
        **_message(subscriber_id, "outbound", body, list(media), now),
        "ref": ref,
        "reply_to": to,
        "status": status,
        "purpose": Purpose.REPLY.value,
    }


def outbox_message(
    subscriber_id: int,
    ref: str,
    body: str,
    media: tuple[str, ...],
    run_id: int | None,
    due_at: datetime | None,
    send_after: datetime,
    now: datetime,
) -> Row:
    """A message the worker sends later: pending until the gate lets it go and it is handed to the
    carrier. Marketing, the gate's strictest purpose, unless `purposed` says otherwise."""
    return {
        **_message(subscriber_id, "outbound", body, list(media), now),
        "ref": ref,
        "status": "pending",
        "run_id": run_id,
        "purpose": Purpose.MARKETING.value,
        "marketing": True,
        "due_at": due_at,
        "send_after": send_after,
        "attempts": 0,
    }


def purposed(message: Row, purpose: Purpose) -> Row:
    """An outbox message with its purpose: which rules the gate applies to it."""
    return {**message, "purpose": purpose.value, "marketing": purpose is Purpose.MARKETING}


def consent_event(
    subscriber_id: int, change: ConsentChange, text: str | None, message_sid: str | None, at: datetime
) -> Row:
    return {
        "subscriber_id": subscriber_id,
        "action": change.action.value,
        "from_status": change.from_status.value,
        "to_status": change.to_status.value,
        "keyword": change.keyword,
        "source": change.source,
        "text": text,
        "message_sid": message_sid,
        "at": at,
    }


def texted_at(at: datetime) -> str:
    """A time as keywords_texted keeps it: UTC to the second, "2026-11-26T18:00:05Z", which compares
    as text in SQL on both databases."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def keyword_texted(summary: Mapping[str, Any] | None, keyword: str, at: datetime) -> dict[str, Any]:
    """A subscriber's keywords_texted with one more text of `keyword` at `at` (a new dict)."""
    found = dict(summary or {})
    before = found.get(keyword) or {}
    last = texted_at(at)
    found[keyword] = {"times": int(before.get("times", 0)) + 1, "last": max(last, before.get("last", last))}
    return found


def keyword_event(
    subscriber_id: int, keyword: str, text: str, message_sid: str, at: datetime, misspelt: bool = False
) -> Row:
    return {
        "subscriber_id": subscriber_id,
        "keyword": keyword,
        "text": text,
        "message_sid": message_sid,
        "at": at,
        "misspelt": misspelt,
    }


def run_state(row: Mapping[Any, Any]) -> RunState:
    return RunState(
        row["flow"],
        row["step"],
        row["waiting"],
        row["asked_again"],
        row["due_at"],
        row.get("event"),
        row.get("run_key") or "",
    )


def run_values(state: RunState | None, now: datetime) -> Row:
    """A run's moving parts: active at its next step, or ended now."""
    return {
        "status": "active" if state is not None else "ended",
        "step": state.step if state else 0,
        "waiting": state.waiting if state else False,
        "asked_again": state.asked_again if state else False,
        "due_at": state.due_at if state else None,
        "ended_at": None if state else now,
    }


def new_run(subscriber_id: int, flow: str, state: RunState | None, started_by: str, now: datetime) -> Row:
    return {
        "subscriber_id": subscriber_id,
        "flow": flow,
        "started_by": started_by,
        "started_at": now,
        "updated_at": now,
        "event": dict(state.event) if state is not None and state.event is not None else None,
        "run_key": state.key if state is not None else "",
        **run_values(state, now),
    }


def link(
    code: str,
    url: str,
    subscriber_id: int,
    message_ref: str,
    origin: str,
    origin_name: str,
    campaign_id: int | None,
    now: datetime,
) -> Row:
    return {
        "code": code,
        "url": url,
        "subscriber_id": subscriber_id,
        "message_ref": message_ref,
        "origin": origin[:16],
        "origin_name": origin_name[:100],
        "campaign_id": campaign_id,
        "created_at": now,
    }
