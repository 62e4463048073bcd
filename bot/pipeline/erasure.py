"""A number erased on request (GDPR Art. 17, CCPA's right to delete), in one transaction.

What made the person identifiable goes: their number, profile, consent log and keyword texts, the
words of every message, the store's details of their events, the browser behind their taps. What
stays is anonymous: the subscriber's row under a random name (so that reports still count one
recipient, one click, one order where there was one), the rows the dashboard's counts are made of
(their totals do not move), and a suppression entry (a keyed hash of the number) so that no import
brings the number back until the person opts in again themselves.

Every table that holds a subscriber's rows has its treatment here; a test fails when a new one
does not (bot.pipeline.subscriber_export.holding_tables).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, literal_column, null, or_, select, update
from sqlalchemy.engine import Connection

from bot.domain.subscription import Status
from bot.pipeline.changes import lock_subscribers
from bot.pipeline.suppression import SuppressionKey, check_key, suppress
from bot.store.schema import (
    IN_OUTBOX,
    RECIPIENT_IS_PENDING,
    RUN_IS_ACTIVE,
    campaign_recipients,
    clicks,
    consent_events,
    conversations,
    flow_runs,
    keyword_events,
    links,
    messages,
    segment_entries,
    store_events,
    subscribers,
)

ERASED = "erased"  # the reason on what was still to go out


@dataclass
class Erased:
    held: bool  # anything was held about the number
    inbound_sids: list[str] = field(default_factory=list)  # their claims in Redis go too
    rows: dict[str, int] = field(default_factory=dict)  # rows changed or removed, by table


@dataclass(frozen=True)
class _Whose:
    """The person's rows: by subscriber id where a table has one, by number where it has one."""

    subscriber_id: int | None
    phone: str
    tombstone: str
    now: datetime
    secrets: tuple[str, ...]  # their words kept elsewhere (a link made with their name in it)


def erase(conn: Connection, key: SuppressionKey, phone: str, now: datetime) -> Erased:
    """Erase `phone` and suppress it; what was done (nothing held: only suppressed)."""
    check_key(conn, key)
    if conn.dialect.name == "sqlite":  # what is deleted or rewritten is zeroed in the file, not left
        conn.exec_driver_sql("PRAGMA secure_delete = ON")
    found = conn.scalar(select(subscribers.c.id).where(subscribers.c.phone == phone))
    record = lock_subscribers(conn, {found})[found] if found is not None else None
    whose = _Whose(
        found,
        phone,
        tombstone=f"erased:{secrets.token_hex(6)}",
        now=now,
        secrets=_their_words(phone, record),
    )
    result = Erased(held=record is not None)
    if found is not None:
        result.inbound_sids = list(
            conn.scalars(
                select(messages.c.sid).where(
                    messages.c.subscriber_id == found,
                    messages.c.direction == "inbound",
                    messages.c.sid.is_not(None),
                )
            )
        )
    for table, treat in TREATMENTS.items():
        changed = treat(conn, whose)
        result.held = result.held or changed > 0
        if changed:
            result.rows[table] = changed
    if found is not None:
        conn.execute(update(subscribers).where(subscribers.c.id == found).values(**_anonymous(record, whose)))
        result.rows["subscribers"] = 1
    suppress(conn, key, phone, ERASED, now)
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("PRAGMA secure_delete = OFF")
    return result


def _their_words(phone: str, record: dict[str, Any] | None) -> tuple[str, ...]:
    words = [phone, phone.lstrip("+")]
    for value in ((record or {}).get("properties") or {}).values():
        if isinstance(value, str) and len(value) >= 3:
            words.append(value)
    return tuple(words)


def _anonymous(record: dict[str, Any] | None, whose: _Whose) -> dict[str, Any]:
    """The subscriber's row, anonymous: counted as someone who left, identifiable by nothing."""
    was = (record or {}).get("status")
    return {
        "phone": whose.tombstone,
        "status": Status.UNSUBSCRIBED.value,
        "language": None,
        "language_source": None,
        "country": None,
        "properties": {},
        "keywords_texted": null(),
        "engaged_at": None,
        "unsubscribed_at": (record or {}).get("unsubscribed_at") if was == Status.UNSUBSCRIBED else whose.now,
        "updated_at": whose.now,
    }


def _by(table: Any, whose: _Whose) -> ColumnElement[bool] | None:
    found = []
    if "subscriber_id" in table.c and whose.subscriber_id is not None:
        found.append(table.c.subscriber_id == whose.subscriber_id)
    if "phone" in table.c:
        found.append(table.c.phone == whose.phone)
    return or_(*found) if found else None


def _removed(table: Any) -> Callable[[Connection, _Whose], int]:
    def treat(conn: Connection, whose: _Whose) -> int:
        where = _by(table, whose)
        return 0 if where is None else conn.execute(delete(table).where(where)).rowcount

    return treat


def _changed(table: Any, values: Callable[[_Whose], dict[str, Any]]) -> Callable[[Connection, _Whose], int]:
    def treat(conn: Connection, whose: _Whose) -> int:
        where = _by(table, whose)
        return (
            0 if where is None else conn.execute(update(table).where(where).values(**values(whose))).rowcount
        )

    return treat


def _messages(conn: Connection, whose: _Whose) -> int:
    where = _by(messages, whose)
    if where is None:
        return 0
    conn.execute(
        update(messages)
        .where(where, IN_OUTBOX)
        .values(status="cancelled", reason=ERASED, send_after=None, updated_at=whose.now)
    )
    blank = update(messages).where(where).values(body="", media_urls=[])
    return conn.execute(blank).rowcount


def _flow_runs(conn: Connection, whose: _Whose) -> int:
    where = _by(flow_runs, whose)
    if where is None:
        return 0
    conn.execute(
        update(flow_runs)
        .where(where, RUN_IS_ACTIVE)
        .values(status="cancelled", due_at=None, ended_at=whose.now, updated_at=whose.now)
    )
    return conn.execute(update(flow_runs).where(where).values(event=None)).rowcount


def _recipients(conn: Connection, whose: _Whose) -> int:
    where = _by(campaign_recipients, whose)
    if where is None:
        return 0
    still = update(campaign_recipients).where(where, RECIPIENT_IS_PENDING)
    return conn.execute(still.values(status="skipped", reason=ERASED, updated_at=whose.now)).rowcount


def _links(conn: Connection, whose: _Whose) -> int:
    """A link is the brand's address; one made with their number or their name in it is blanked
    (and answers as a link that is no longer valid)."""
    where = _by(links, whose)
    if where is None:
        return 0
    personal = [
        link_id
        for link_id, url in conn.execute(select(links.c.id, links.c.url).where(where))
        if any(word in url for word in whose.secrets)
    ]
    if not personal:
        return 0
    return conn.execute(
        update(links).where(links.c.id.in_(personal)).values(url=literal_column("''"))
    ).rowcount


TREATMENTS: dict[str, Callable[[Connection, _Whose], int]] = {
    "consent_events": _removed(consent_events),
    "keyword_events": _removed(keyword_events),
    "flow_runs": _flow_runs,
    "messages": _messages,
    "links": _links,
    "clicks": _changed(clicks, lambda whose: {"user_agent": None}),
    "campaign_recipients": _recipients,
    "store_events": _changed(store_events, lambda whose: {"phone": whose.tombstone, "properties": {}}),
    "conversions": lambda conn, whose: 0,  # amounts and names of campaigns: nothing of theirs
    "conversations": _removed(conversations),  # their thread is their messages, blanked above
    "coupon_codes": lambda conn, whose: 0,  # a store's code, given to the anonymous row: never again
    "segment_entries": _removed(segment_entries),  # a segment trigger's last look: who was in it
}
