"""Tables. Alembic migrations under migrations/ create them; a test keeps both in step."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    literal_column,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

Id = BigInteger().with_variant(Integer(), "sqlite")  # SQLite only autoincrements INTEGER keys


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps stored in UTC and always read back timezone-aware (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def bind_processor(self, dialect: Dialect) -> Callable[[datetime | None], Any] | None:
        """On SQLite, the text SQLAlchemy would store, made in one step (its chain of two
        processors cost a fifth of a bulk import's time); a test holds the two to the byte."""
        if dialect.name == "sqlite":
            return _sqlite_text
        return super().bind_processor(dialect)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _sqlite_text(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    if value.utcoffset():
        value = value.astimezone(UTC)
    return _SQLITE_FORMAT % (
        value.year,
        value.month,
        value.day,
        value.hour,
        value.minute,
        value.second,
        value.microsecond,
    )


_SQLITE_FORMAT = "%04d-%02d-%02d %02d:%02d:%02d.%06d"  # SQLAlchemy's storage format for SQLite

# What segments look inside: JSONB on PostgreSQL, read without parsing text for every row (a
# million-subscriber count over a property takes a quarter of the time); JSON text on SQLite.
Document = JSON().with_variant(JSONB(), "postgresql")

subscribers = Table(
    "subscribers",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("phone", String(20), nullable=False, unique=True),
    Column("status", String(16), nullable=False, index=True),  # the Overview counts by status
    Column("language", String(16)),
    Column("language_source", String(120)),  # "keyword:UNETE", "keyword:ESPAÑOL", "property"
    Column("opt_in_source", String(100)),
    Column("opt_in_keyword", String(100)),
    Column("country", String(2)),  # ISO region from the number ("US"); None when it cannot be placed
    Column("properties", Document, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("subscribed_at", UTCDateTime),
    Column("unsubscribed_at", UTCDateTime),
    # Kept as messages and clicks arrive, so that a segment reads one row per subscriber rather than
    # their history: the last time they texted us or clicked a tracked link (not a preview), and
    # per canonical keyword how often they texted it and when last ({"JOIN": {"times": 2, "last":
    # "2026-11-26T19:17:00Z"}}). keyword_events and messages stay the record.
    Column("engaged_at", UTCDateTime),
    Column("keywords_texted", Document),
)

consent_events = Table(
    "consent_events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("subscriber_id", Id, ForeignKey("subscribers.id"), nullable=False),
    Column("action", String(32), nullable=False),
    Column("from_status", String(16), nullable=False),
    Column("to_status", String(16), nullable=False),
    Column("keyword", String(100)),
    Column("source", String(100)),
    Column("text", Text),
    Column("message_sid", String(64)),
    Column("at", UTCDateTime, nullable=False),
    Index(None, "subscriber_id", "id"),
    Index(None, "action", "id"),  # the possible opt-outs to review, newest first
)

# Every program keyword a subscriber texts, not only the first opt-in: "who texted SHOES?"
keyword_events = Table(
    "keyword_events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("subscriber_id", Id, ForeignKey("subscribers.id"), nullable=False),
    Column("keyword", String(100), nullable=False),
    Column("text", Text, nullable=False),
    Column("message_sid", String(64), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("misspelt", Boolean),  # caught from a misspelling (None: recorded before this was kept)
    Index(None, "keyword", "subscriber_id"),
    Index(None, "subscriber_id", "id"),
)

# A flow running for one subscriber. The database is the truth for runs and their next step;
# Redis will only hold the queue of due work. One active run per flow and subscriber.
flow_runs = Table(
    "flow_runs",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("subscriber_id", Id, ForeignKey("subscribers.id"), nullable=False),
    Column("flow", String(100), nullable=False),
    Column("status", String(12), nullable=False),  # active | ended | cancelled
    Column("step", Integer, nullable=False),
    Column("waiting", Boolean, nullable=False),
    Column("asked_again", Boolean, nullable=False),
    Column("due_at", UTCDateTime),
    Column("started_by", String(64)),  # the MessageSid that started it, "event:<type>", "flow:<name>"
    Column("event", Document),  # the store event that started it (an automation): its messages see it
    # A flow that runs once per event (`per: event.order_id`): that event's key; '' for the others.
    Column("run_key", String(200), nullable=False, server_default=""),
    Column("started_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("ended_at", UTCDateTime),
    Index(
        "uq_flow_runs_active",
        "subscriber_id",
        "flow",
        "run_key",
        unique=True,
        sqlite_where=text("status = 'active'"),
        postgresql_where=text("status = 'active'"),
    ),
    # One run per event key, ever: the same order's confirmation is never started twice.
    Index(
        "uq_flow_runs_key",
        "subscriber_id",
        "flow",
        "run_key",
        unique=True,
        sqlite_where=text("run_key <> ''"),
        postgresql_where=text("run_key <> ''"),
    ),
    Index(
        "ix_flow_runs_due",
        "due_at",
        sqlite_where=text("status = 'active'"),
        postgresql_where=text("status = 'active'"),
    ),
    # An automation's at_most: a subscriber's last run of the flow. Led by the flow, so that a
    # subscriber's active runs are still read from the partial index above.
    Index(None, "flow", "subscriber_id", "started_at"),
)

messages = Table(
    "messages",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("subscriber_id", Id, ForeignKey("subscribers.id"), nullable=False),
    Column("direction", String(8), nullable=False),
    Column("body", Text, nullable=False),
    Column("media_urls", JSON, nullable=False),
    # The carrier's id. Unique: a second delivery of one MessageSid can never be stored twice.
    Column("sid", String(64), unique=True),
    # Our own idempotency key for outbound messages ("<inbound sid>:<n>" for replies).
    Column("ref", String(100), unique=True),
    Column("reply_to", String(64)),
    Column("intent", String(16)),
    Column("status", String(20), nullable=False),
    Column("error_code", Integer),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # Sent by the worker (not in a TwiML reply): the outbox. Status pending -> sending -> the
    # carrier's statuses; cancelled when the subscriber opted out first.
    Column("run_id", Id),  # the flow run whose step this is
    Column("marketing", Boolean),  # a marketing step: quiet hours apply
    Column("due_at", UTCDateTime),  # when the step fell due: lateness is measured from here
    Column("send_after", UTCDateTime),  # not before (quiet hours, retries)
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("handed_at", UTCDateTime),  # when the carrier's API accepted it
    Column("campaign_id", Id),  # a campaign's message (else a flow step's or a reply)
    # Why it exists, as the gate reads it (bot.domain.gate.Purpose): reply, consent, transactional,
    # marketing, person. And why it was held back for good or failed before the carrier, if it was.
    Column("purpose", String(16)),
    Column("reason", String(200)),
    Column("sent_by", String(60)),  # a person's reply from the inbox: the user who wrote it
    Index(None, "subscriber_id", "id"),
    Index(None, "reply_to"),
    Index(  # reports and segments: a campaign's messages
        "ix_messages_campaign",
        "campaign_id",
        sqlite_where=text("campaign_id IS NOT NULL"),
        postgresql_where=text("campaign_id IS NOT NULL"),
    ),
    Index(
        "ix_messages_outbox",
        "send_after",
        sqlite_where=text("status IN ('pending', 'dispatching')"),
        postgresql_where=text("status IN ('pending', 'dispatching')"),
    ),
)


# A tracked link: `{{ link("https://...") }}` in a message becomes /l/{code}, one per recipient
# and message. Its clicks are kept apart, each with whether a link-preview fetcher made it.
links = Table(
    "links",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("code", String(16), nullable=False),
    Column("url", Text, nullable=False),
    Column("subscriber_id", Id, ForeignKey("subscribers.id"), nullable=False),
    Column("message_ref", String(100)),
    Column("origin", String(16), nullable=False),  # campaign | flow | keyword
    Column("origin_name", String(100), nullable=False),  # utm_campaign
    Column("campaign_id", Id),
    Column("created_at", UTCDateTime, nullable=False),
    Index("uq_links_code", "code", unique=True),
    Index(None, "campaign_id"),
)

clicks = Table(
    "clicks",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("link_id", Id, ForeignKey("links.id"), nullable=False),
    Column("subscriber_id", Id, nullable=False),  # the link's, kept here for segments
    Column("campaign_id", Id),
    Column("preview", Boolean, nullable=False),  # a link-preview fetcher, not a person
    Column("user_agent", String(300)),
    Column("at", UTCDateTime, nullable=False),
    Index(None, "subscriber_id", "at"),
    Index(None, "at"),
    Index(None, "link_id"),
    Index(None, "campaign_id"),
)

# A campaign sent (or being sent): what was decided when sending started, kept whatever the YAML
# says later. `round` counts explicit sends again of one name; a name is sent once per round.
campaigns = Table(
    "campaigns",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False),
    Column("round", Integer, nullable=False),
    Column("status", String(16), nullable=False),  # sending | paused | cancelled | finished
    Column("fingerprint", String(64), nullable=False),  # what was sent: a rename sends nothing again
    Column("definition", JSON, nullable=False),  # the frozen messages and options
    Column("audience", Integer, nullable=False),
    Column("started_by", String(100), nullable=False),  # cli, api from an address, schedule
    Column("started_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    # An A/B test's outcome: the variant sent to the rest ("none": nobody else), and when picked.
    Column("winner", String(8)),
    Column("winner_at", UTCDateTime),
    Index("uq_campaigns_name_round", "name", "round", unique=True),
    Index(None, "fingerprint"),
)

campaign_recipients = Table(
    "campaign_recipients",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("campaign_id", Id, ForeignKey("campaigns.id"), nullable=False),
    Column("subscriber_id", Id, ForeignKey("subscribers.id"), nullable=False),
    # pending | queued | skipped; waiting: not in an A/B test's group, until its winner is known
    Column("status", String(16), nullable=False),
    Column("reason", String(40)),  # why skipped: unsubscribed, smart_sending, no_message, cancelled
    Column("variant", String(1)),  # an A/B test's variant (a-d) they get
    Column("send_after", UTCDateTime, nullable=False),
    Column("attempt", Integer, nullable=False, server_default="0"),
    Column("message_id", Id),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("uq_campaign_recipients", "campaign_id", "subscriber_id", unique=True),
    Index(
        "ix_campaign_recipients_pending",
        "campaign_id",
        "send_after",
        sqlite_where=text("status = 'pending'"),
        postgresql_where=text("status = 'pending'"),
    ),
    Index(None, "message_id"),
)

# What a store tells us (checkouts, orders, shipping, any type of its own), from POST /api/events or
# Shopify's webhooks. `subscriber_id` is the subscriber the phone belonged to when it came (None: a
# customer's event, never a reason to text them).
store_events = Table(
    "store_events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("source", String(16), nullable=False),  # api | shopify
    Column("external_id", String(200), nullable=False),  # the store's id: a retry stores nothing
    Column("type", String(50), nullable=False),
    Column("phone", String(20), nullable=False),
    Column("subscriber_id", Id),
    Column("order_ref", String(200)),  # the order or checkout it is about
    Column("value_minor", BigInteger),  # total_price in minor units (cents)
    Column("currency", String(3)),
    Column("properties", Document, nullable=False),
    Column("occurred_at", UTCDateTime, nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    Index("uq_store_events_source_id", "source", "external_id", unique=True),
    # One order_placed per order, whatever the concurrency: the database, not a read, refuses a second.
    Index(
        "uq_store_events_order_placed",
        "source",
        "order_ref",
        unique=True,
        sqlite_where=text("type = 'order_placed' AND order_ref IS NOT NULL"),
        postgresql_where=text("type = 'order_placed' AND order_ref IS NOT NULL"),
    ),
    Index(None, "subscriber_id", "type", "occurred_at"),
    Index(None, "type", "occurred_at"),
    Index(None, "order_ref", "type"),
    Index(None, "phone"),
)

# An order attributed to the message that earned it: at most one per order.
conversions = Table(
    "conversions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("event_id", Id, ForeignKey("store_events.id"), nullable=False, unique=True),
    Column("subscriber_id", Id, nullable=False),
    Column("message_id", Id),
    Column("via", String(8), nullable=False),  # click | receipt
    Column("origin", String(16), nullable=False),  # campaign | flow
    Column("origin_name", String(100), nullable=False),  # the campaign's or the flow's name
    Column("campaign_id", Id),
    Column("opt_in_source", String(100)),  # the keyword (or form) the subscriber joined through
    Column("value_minor", BigInteger),
    Column("currency", String(3)),
    Column("occurred_at", UTCDateTime, nullable=False),
    Column("cancelled_at", UTCDateTime),  # the order was cancelled: no longer credited (kept)
    Index(None, "campaign_id"),
    Index(None, "origin", "origin_name"),
)

# Unique coupon codes (`{{ coupon("pool") }}`): loaded from a store's export, each given to one
# recipient at most (the row holds who), the same one again for the same campaign or flow; marked
# redeemed when an order names it.
coupon_codes = Table(
    "coupon_codes",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("pool", String(60), nullable=False),
    Column("code", String(100), nullable=False),
    Column("loaded_at", UTCDateTime, nullable=False),
    Column("subscriber_id", Id, ForeignKey("subscribers.id")),  # whom it was given to
    Column("origin", String(16)),  # campaign | flow | keyword | reply
    Column("origin_name", String(100)),  # the campaign's, flow's or keyword's name
    Column("campaign_id", Id),
    Column("message_ref", String(100)),  # the message it was first written into
    Column("assigned_at", UTCDateTime),  # None: still free
    Column("redeemed_at", UTCDateTime),
    Column("order_ref", String(200)),  # the order that named it
    # One row per code: a code can only ever be given to one person.
    Index("uq_coupon_codes_pool_code", "pool", "code", unique=True),
    # One code per recipient, pool and campaign or flow, whatever the concurrency.
    Index("uq_coupon_codes_given", "pool", "subscriber_id", "origin", "origin_name", unique=True),
    Index(  # the next free code of a pool
        "ix_coupon_codes_free",
        "pool",
        "id",
        sqlite_where=text("assigned_at IS NULL"),
        postgresql_where=text("assigned_at IS NULL"),
    ),
    Index(None, "code"),  # an order's codes, whatever the pool
    Index(None, "campaign_id"),
    Index(None, "origin", "origin_name"),
)

# `trigger: {enters: SEGMENT}`: who was in a watched segment at the worker's last look, and since
# when each segment is watched (its first look starts nothing: nobody already in it is a newcomer).
segment_entries = Table(
    "segment_entries",
    metadata,
    Column("segment", String(100), primary_key=True),
    Column("subscriber_id", Id, ForeignKey("subscribers.id"), primary_key=True),
    Column("at", UTCDateTime, nullable=False),  # when they were first seen in it
)
segment_watches = Table(
    "segment_watches",
    metadata,
    Column("segment", String(100), primary_key=True),
    Column("since", UTCDateTime, nullable=False),
)

# What was done from the dashboard (a login, a campaign sent, paused or cancelled): when, from where.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("address", String(64), nullable=False),  # the client's address as the server saw it
    Column("action", String(40), nullable=False),  # login, login_failed, logout, campaign_send, ...
    Column("detail", String(200)),
    Column("user_name", String(60)),  # who: a user's name, "admin" for the shared password, None for the API
    Index(None, "at"),
)

# Conversations with a person (the inbox): a subscriber's texts the program did not consume. One
# open conversation per subscriber at most (a partial unique index); its thread is their messages.
conversations = Table(
    "conversations",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("subscriber_id", Id, ForeignKey("subscribers.id"), nullable=False),
    Column("status", String(8), nullable=False),  # open, closed
    Column("opened_at", UTCDateTime, nullable=False),
    Column("last_message_at", UTCDateTime, nullable=False),  # either way: the inbox's order
    Column("unread", Integer, nullable=False, server_default="0"),  # their texts since the team looked
    Column("assigned_to", String(60)),  # a user's name
    Column("closed_at", UTCDateTime),
    Column("closed_by", String(60)),  # a user's name, or "opted out"
    Index(
        "uq_conversations_open",
        "subscriber_id",
        unique=True,
        sqlite_where=text("status = 'open'"),
        postgresql_where=text("status = 'open'"),
    ),
    Index(None, "status", "last_message_at"),
    Index(None, "subscriber_id", "id"),
)

# The dashboard's users: a name, a role (bot/domain/roles.py) and a scrypt hash of the password.
users = Table(
    "users",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("name", String(60), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("password_hash", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("password_changed_at", UTCDateTime, nullable=False),
    Column("totp_secret", String(64)),  # the second factor, once set up (base32)
    Column("recovery_codes", JSON),  # SHA-256 hashes of the unused recovery codes
)

# Numbers erased on request (GDPR Art. 17, CCPA): a keyed hash of the number, never the number, so
# that no import or list can bring it back while the person has not opted in again themselves.
suppressions = Table(
    "suppressions",
    metadata,
    Column("digest", String(64), primary_key=True),  # HMAC-SHA256 of the E.164 number, hex
    Column("key_id", String(16), nullable=False),  # which server key made it (a changed key is caught)
    Column("reason", String(40), nullable=False),  # erased
    Column("at", UTCDateTime, nullable=False),
)

# The conditions of the two partial indexes, written out as literals: PostgreSQL's generic plan
# for a prepared statement (asyncpg prepares them all) uses a partial index only when the query
# names the index's own constants, and otherwise scans every run or every message ever stored.
RUN_IS_ACTIVE = flow_runs.c.status == literal_column("'active'")
IN_OUTBOX = messages.c.status.in_([literal_column("'pending'"), literal_column("'dispatching'")])
RECIPIENT_IS_PENDING = campaign_recipients.c.status == literal_column("'pending'")

# The dashboard's counts, kept as the data arrives: triggers on the tables above append a row here
# for each thing counted (store/activity.py); the worker folds them into hourly_counts.
activity_deltas = Table(
    "activity_deltas",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("hour", BigInteger, nullable=False),  # hours since 1970-01-01 00:00 UTC
    Column("metric", String(20), nullable=False),  # joined, left, texts, sent, delivered, clicks, ...
    Column("label", String(140), nullable=False),  # what it is counted by: a source, a keyword, a kind
    Column("n", Integer, nullable=False),
    Column("amount", BigInteger, nullable=False),  # minor units, for revenue
)

hourly_counts = Table(
    "hourly_counts",
    metadata,
    Column("hour", BigInteger, primary_key=True),
    Column("metric", String(20), primary_key=True),
    Column("label", String(140), primary_key=True),
    Column("n", BigInteger, nullable=False),
    Column("amount", BigInteger, nullable=False),
)

total_counts = Table(  # the same, all time: the Keywords and Flows pages read a row per label
    "total_counts",
    metadata,
    Column("metric", String(20), primary_key=True),
    Column("label", String(140), primary_key=True),
    Column("n", BigInteger, nullable=False),
    Column("amount", BigInteger, nullable=False),
)

# Each segment's last count (the Segments pages read these; the worker counts again every few
# minutes): a million-subscriber program's dozen segments take seconds to count, a page must not.
segment_counts = Table(
    "segment_counts",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("members", BigInteger, nullable=False),
    Column("subscribed", BigInteger, nullable=False),
    Column("definition", String(64), nullable=False),  # the segments' fingerprint it was counted with
    Column("counted_at", UTCDateTime, nullable=False),
)
