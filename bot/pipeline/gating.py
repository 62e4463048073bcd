"""What the gate (`bot.domain.gate`) reads about messages, gathered from the store in a few
statements per batch, under the same locks as the writes that follow.

Used when campaign messages are queued (smart sending) and when the worker hands any message to the
carrier, so both ask the same question of the same facts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, literal_column, or_, select
from sqlalchemy.engine import Connection

from bot.domain.flows import Flow
from bot.domain.gate import Outgoing, Purpose, Recipient, Since
from bot.domain.inbox import waits_for_conversation
from bot.domain.subscription import Status
from bot.pipeline.automations import exited
from bot.store.schema import campaigns, conversations, messages

UNREACHED = ("failed", "undelivered", "cancelled")  # never reached them: smart sending forgets these

_MARKETING_OF = select(
    messages.c.id,
    messages.c.subscriber_id,
    messages.c.status,
    messages.c.handed_at,
    messages.c.created_at,
    messages.c.updated_at,
).where(
    messages.c.subscriber_id.in_(bindparam("ids", expanding=True)),
    messages.c.direction == literal_column("'outbound'"),
    messages.c.purpose == literal_column("'marketing'"),
    messages.c.status.not_in(UNREACHED),
    or_(messages.c.handed_at >= bindparam("since"), messages.c.status.in_(("pending", "dispatching"))),
)
_SMART_SENDING = select(campaigns.c.id, campaigns.c.definition).where(
    campaigns.c.id.in_(bindparam("ids", expanding=True))
)


def recipient(row: Mapping[str, Any]) -> Recipient:
    """The gate's view of a subscriber row (or a row joined with one: `subscriber_status`)."""
    status = row.get("subscriber_status") or row["status"]
    return Recipient(row["phone"], row.get("country"), Status(status), row.get("unsubscribed_at"))


@dataclass(frozen=True)
class Marketing:
    """A subscriber's marketing messages that count for smart sending."""

    # subscriber -> (message id, when): handed over within the window, or on its way now
    reached: dict[int, list[tuple[int, datetime]]]
    queued: dict[int, list[tuple[int, datetime]]]  # subscriber -> (message id, queued at), waiting

    def handing(self, subscriber_id: int, message_id: int, at: datetime) -> None:
        """A marketing message to them goes (or went) to the carrier."""
        self.reached.setdefault(subscriber_id, []).append((message_id, at))

    def latest_before(self, subscriber_id: int, message_id: int | None) -> datetime | None:
        """The latest other marketing message: handed over or being handed, or queued before
        `message_id` (None: a message not stored yet, queued after all of them). The message
        itself never counts (a hand-over a dead worker left `dispatching` is looked up, not
        skipped for smart sending)."""
        queued = self.queued.get(subscriber_id, ())
        times = [at for other, at in queued if message_id is None or other < message_id]
        times += [at for other, at in self.reached.get(subscriber_id, ()) if other != message_id]
        return max(times, default=None)


def marketing_of(
    conn: Connection, subscriber_ids: Iterable[int], window: timedelta, now: datetime
) -> Marketing:
    """The marketing messages of these subscribers handed over within `window`, or still queued."""
    ids = sorted(set(subscriber_ids))
    found = Marketing({}, {})
    if not ids:
        return found
    for row in conn.execute(_MARKETING_OF, {"ids": ids, "since": now - window}):
        if row.handed_at is not None or row.status == "dispatching":  # reached, or on its way now
            found.handing(row.subscriber_id, row.id, row.handed_at or row.updated_at)
        else:
            found.queued.setdefault(row.subscriber_id, []).append((row.id, row.created_at))
    return found


def smart_sending_of(conn: Connection, campaign_ids: Iterable[int]) -> dict[int, timedelta]:
    """Each campaign's smart-sending window, as it was fixed when it started (none: off)."""
    ids = sorted(set(campaign_ids))
    if not ids:
        return {}
    windows = {}
    for row in conn.execute(_SMART_SENDING, {"ids": ids}):
        hours = (row.definition or {}).get("smart_sending_hours")
        if hours:
            windows[row.id] = timedelta(hours=float(hours))
    return windows


_TALKING = select(conversations.c.subscriber_id, conversations.c.last_message_at).where(
    conversations.c.subscriber_id.in_(bindparam("ids", expanding=True)),
    conversations.c.status == literal_column("'open'"),
    conversations.c.last_message_at > bindparam("since"),
)


def talking_of(
    conn: Connection, subscriber_ids: Iterable[int], waits: timedelta, now: datetime
) -> dict[int, datetime]:
    """Of these subscribers, those in an open conversation with a person: until when marketing to
    them waits."""
    ids = sorted(set(subscriber_ids))
    if not ids or waits <= timedelta(0):
        return {}
    found = {}
    for subscriber_id, last in conn.execute(_TALKING, {"ids": ids, "since": now - waits}):
        until = waits_for_conversation(last, waits, now)
        if until is not None:
            found[subscriber_id] = until
    return found


@dataclass(frozen=True)
class Queued:
    """A stored message as the hand-over reads it."""

    id: int
    subscriber_id: int
    purpose: str | None
    created_at: datetime
    campaign_id: int | None
    run: Mapping[str, Any] | None  # its flow run (id, subscriber_id, flow, event), if a flow's step


class HandOver:
    """The facts for one batch of stored messages about to be handed over."""

    def __init__(
        self,
        conn: Connection,
        batch: Sequence[Queued],
        flows: Mapping[str, Flow],
        now: datetime,
        waits: timedelta = timedelta(0),  # how long marketing waits for a conversation (the inbox)
    ) -> None:
        self.smart = smart_sending_of(conn, (m.campaign_id for m in batch if m.campaign_id is not None))
        watched = [m.subscriber_id for m in batch if m.campaign_id in self.smart]
        # A flow's step and a campaign's text due together: the step goes first, and counts.
        window = max(self.smart.values(), default=timedelta(0))
        self.marketing = marketing_of(conn, watched, window, now)
        self.exited = exited(conn, [m.run for m in batch if m.run is not None], flows)
        marketing = [m.subscriber_id for m in batch if m.purpose in (None, Purpose.MARKETING.value)]
        self.talking = talking_of(conn, marketing, waits, now)

    def outgoing(self, message: Queued) -> Outgoing:
        purpose = Purpose(message.purpose) if message.purpose else Purpose.MARKETING
        window = self.smart.get(message.campaign_id) if message.campaign_id is not None else None
        return Outgoing(purpose, message.created_at, window)

    def since(self, message: Queued) -> Since:
        other = None
        if message.campaign_id in self.smart:
            other = self.marketing.latest_before(message.subscriber_id, message.id)
        run_id = message.run["id"] if message.run is not None else None
        return Since(
            exited=run_id in self.exited,
            other_marketing=other,
            talking_until=self.talking.get(message.subscriber_id),
        )

    def handing(self, message: Queued, now: datetime) -> None:
        """It goes now: a campaign message later in the batch counts it for smart sending."""
        if message.purpose == Purpose.MARKETING.value:
            self.marketing.handing(message.subscriber_id, message.id, now)
