"""Everything one write transaction changes, gathered while its decisions are taken, written at once.

`record` is the one place a domain Outcome becomes writes (consent records, keyword events, the
subscriber's new fields, their runs), for an inbound message, a flow step falling due and a
carrier's report alike (mailroom's "effects add writes before commit"). Messages to send are
added by the caller: replies in the webhook's answer, or the worker's outbox.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from bot.domain.coupons import PoolEmpty, pools_in
from bot.domain.outcome import Outcome
from bot.domain.subscription import Status
from bot.pipeline.coupons import CouponDesk, For
from bot.pipeline.links import track
from bot.pipeline.runs import RunBook, load_books, write_books
from bot.pipeline.talks import Talks
from bot.store import rows
from bot.store.bulk import write_apart
from bot.store.statements import (
    INSERT_CONSENT,
    INSERT_KEYWORD_EVENTS,
    INSERT_LINKS,
    INSERT_MESSAGES,
    SUBSCRIBER_FIELDS,
    SUBSCRIBERS_BY_ID,
    UPDATE_SUBSCRIBER,
)


def lock_subscribers(conn: Connection, subscriber_ids: Iterable[int]) -> dict[int, rows.Row]:
    """These subscribers' rows by id, locked for this transaction on PostgreSQL (the same rows the
    webhook locks: one writer per subscriber); SQLite's BEGIN IMMEDIATE already serialises."""
    query = SUBSCRIBERS_BY_ID
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    return {row["id"]: dict(row) for row in conn.execute(query, {"ids": sorted(subscriber_ids)}).mappings()}


@dataclass(slots=True)
class Cause:
    """What a decision answers: an inbound message, a due step, a carrier's report."""

    at: datetime
    started_by: str  # recorded on the runs it starts: a MessageSid, "flow:<name>"
    text: str | None = None  # what they texted, kept with consent records and keyword events
    message_sid: str | None = None


@dataclass
class Changes:
    now: datetime
    books: dict[int, RunBook] = field(default_factory=dict)  # subscriber id -> their runs
    messages: list[rows.Row] = field(default_factory=list)
    consent: list[rows.Row] = field(default_factory=list)
    keywords: list[rows.Row] = field(default_factory=list)
    links: list[rows.Row] = field(default_factory=list)  # tracked links in the messages
    subscribers: dict[int, rows.Row] = field(default_factory=dict)  # changed subscribers by id
    started: int = 0  # runs started, once written
    talks: Talks = field(default_factory=Talks)  # their open conversations with a person
    coupons: CouponDesk | None = None  # gives the messages' coupon codes, in the same transaction
    made: set[int] = field(default_factory=set)  # subscribers made in this transaction: nothing stored

    def load_runs(self, conn: Connection, subscriber_ids: list[int]) -> None:
        self.books.update(load_books(conn, subscriber_ids))

    def load_conversations(self, conn: Connection, subscriber_ids: list[int]) -> None:
        self.talks.load(conn, subscriber_ids)

    def book(self, subscriber_id: int) -> RunBook:
        return self.books.setdefault(subscriber_id, RunBook())

    def record(self, subscriber: rows.Row, outcome: Outcome, cause: Cause) -> None:
        sid = subscriber["id"]
        for change in outcome.consent:
            self.consent.append(rows.consent_event(sid, change, cause.text, cause.message_sid, cause.at))
        if outcome.keyword is not None and cause.message_sid is not None:
            self.keywords.append(
                rows.keyword_event(
                    sid, outcome.keyword, cause.text or "", cause.message_sid, cause.at, outcome.misspelt
                )
            )
            subscriber["keywords_texted"] = rows.keyword_texted(
                subscriber.get("keywords_texted"), outcome.keyword, cause.at
            )
            self.subscribers[sid] = subscriber
        if outcome.converse is not None:
            self.talks.apply(sid, outcome.converse, cause.at)
        book = self.book(sid)
        if outcome.cancel_flows:  # in order: an opt-out ends what ran and what this batch started
            book.cancel()
        for run in outcome.runs:
            book.apply(run, cause.started_by)
        if outcome.updates:
            for key, value in outcome.updates.items():
                subscriber[key] = value.value if isinstance(value, Status) else value
            self.subscribers[sid] = subscriber

    def texted(self, subscriber: rows.Row) -> None:
        """They texted us: engaged now, as segments read it."""
        subscriber["engaged_at"] = self.now
        self.subscribers[subscriber["id"]] = subscriber

    def tracked(
        self,
        body: str,
        subscriber_id: int,
        ref: str,
        origin: str,
        base: str | None,
        campaign_id: int | None = None,
    ) -> str:
        """A message's coupon codes given and its tracked links shortened, their rows written with the
        message; PoolEmpty when a coupon's pool has no code left (the message must be held back)."""
        if self.coupons is not None:
            body = self.coupons.swap(body, For(subscriber_id, origin, ref, campaign_id))
        elif pools_in(body):
            raise PoolEmpty(pools_in(body)[0])  # nowhere to take a code from
        return track(
            body,
            self.links,
            base=base,
            subscriber_id=subscriber_id,
            ref=ref,
            origin=origin,
            now=self.now,
            campaign_id=campaign_id,
        )

    def write(self, conn: Connection) -> None:
        self.talks.write_changed(conn)
        write_apart(  # a table each: on PostgreSQL one round trip for them all
            conn,
            [
                (INSERT_MESSAGES, self.messages),
                (INSERT_CONSENT, self.consent),
                (INSERT_KEYWORD_EVENTS, self.keywords),
                (INSERT_LINKS, self.links),
                self.talks.opened(),
                (UPDATE_SUBSCRIBER, [self._update(row) for row in self.subscribers.values()]),
            ],
        )
        # After the messages: an opt-out cancels what this transaction queued too.
        self.started = write_books(conn, self.books, self.now, self.made)

    def _update(self, row: rows.Row) -> dict[str, Any]:
        return {
            "b_id": row["id"],
            "b_updated_at": self.now,
            **{f"b_{name}": row[name] for name in SUBSCRIBER_FIELDS},
        }
