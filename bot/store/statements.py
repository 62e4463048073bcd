"""The statements the pipeline runs, built once: composing a statement costs more than running it
on a small batch. Parameters of `update` statements are prefixed `b_`, never a column's name."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import ColumnElement, Insert, Select, any_, bindparam, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from bot.store.schema import (
    IN_OUTBOX,
    RUN_IS_ACTIVE,
    activity_deltas,
    consent_events,
    flow_runs,
    keyword_events,
    links,
    messages,
    subscribers,
)

SUBSCRIBER_FIELDS = (  # what a decision may change on a subscriber
    "status",
    "language",
    "language_source",
    "opt_in_source",
    "opt_in_keyword",
    "properties",
    "subscribed_at",
    "unsubscribed_at",
    "engaged_at",
    "keywords_texted",
)

DIALECTS = ("sqlite", "postgresql")


def one_of(column: ColumnElement[Any], name: str, dialect: str) -> ColumnElement[bool]:
    """`column` among the list given as `name`. On PostgreSQL `= ANY` of one array: one statement,
    prepared once, however long the list (an IN list is compiled and prepared again per length)."""
    if dialect == "postgresql":
        return column == any_(bindparam(name, type_=postgresql.ARRAY(column.type)))
    return column.in_(bindparam(name, expanding=True))


def per_dialect(make: Callable[[str], Select[Any]]) -> dict[str, Select[Any]]:
    return {dialect: make(dialect) for dialect in DIALECTS}


# -- subscribers -----------------------------------------------------------------------------------
def _senders(dialect: str) -> Select[Any]:
    """A batch's senders, locked on PostgreSQL (SQLite's BEGIN IMMEDIATE already serialises)."""
    query = select(subscribers).where(one_of(subscribers.c.phone, "phones", dialect))
    return query.with_for_update() if dialect == "postgresql" else query


SENDERS = per_dialect(_senders)
SUBSCRIBERS_BY_PHONE = select(subscribers).where(subscribers.c.phone.in_(bindparam("phones", expanding=True)))
SUBSCRIBERS_BY_ID = (
    select(subscribers)
    .where(subscribers.c.id.in_(bindparam("ids", expanding=True)))
    .order_by(subscribers.c.id)
)
# A click: engaged then, unless they already were later (the webhook may have written since).
ENGAGED = (
    update(subscribers)
    .where(
        subscribers.c.id == bindparam("b_id"),
        or_(subscribers.c.engaged_at.is_(None), subscribers.c.engaged_at < bindparam("b_at")),
    )
    .values(engaged_at=bindparam("b_at"))
)
INSERT_SUBSCRIBER: dict[str, Insert] = {
    "sqlite": sqlite.insert(subscribers).on_conflict_do_nothing(index_elements=["phone"]),
    "postgresql": postgresql.insert(subscribers).on_conflict_do_nothing(index_elements=["phone"]),
}
# New subscribers, each row returned as stored: no second read for their ids. A number another
# writer stored first returns nothing here (it is read, and locked, as any stored one).
MAKE_SUBSCRIBERS: dict[str, Insert] = {
    name: statement.returning(*subscribers.c) for name, statement in INSERT_SUBSCRIBER.items()
}
UPDATE_SUBSCRIBER = (
    update(subscribers)
    .where(subscribers.c.id == bindparam("b_id"))
    .values({name: bindparam(f"b_{name}") for name in (*SUBSCRIBER_FIELDS, "updated_at")})
)

# -- messages and events ---------------------------------------------------------------------------
STORED_SIDS = per_dialect(lambda d: select(messages.c.sid).where(one_of(messages.c.sid, "sids", d)))
REPLIES = (
    select(messages.c.reply_to, messages.c.ref, messages.c.body, messages.c.media_urls)
    .where(messages.c.reply_to.in_(bindparam("sids", expanding=True)))
    .order_by(messages.c.id)
)
INSERT_MESSAGES = messages.insert()
INSERT_CONSENT = consent_events.insert()
INSERT_KEYWORD_EVENTS = keyword_events.insert()
INSERT_LINKS = links.insert()
INSERT_DELTAS = activity_deltas.insert()  # counts the rows' triggers cannot give
# Whatever the worker has not yet handed to the carrier stays unsent once they opt out.
CANCEL_OUTBOX = (
    update(messages)
    .where(messages.c.subscriber_id == bindparam("b_subscriber"), messages.c.status == "pending")
    .values(status="cancelled", reason="opted_out", updated_at=bindparam("b_now"))
)
NEW_OUTBOX_IDS = select(messages.c.id, messages.c.send_after).where(
    messages.c.ref.in_(bindparam("refs", expanding=True))
)
# Campaign messages due in the outbox soon: a campaign queues more only while these are few. Those
# held for later (quiet hours in their zone) do not count, or they would stop everyone else's.
# Not a condition on campaign_id itself: that index holds every campaign message ever sent, the
# outbox's only what waits (coalesce keeps SQLite from choosing the first).
CAMPAIGN_BACKLOG = select(func.count()).where(
    IN_OUTBOX,
    messages.c.send_after <= bindparam("until"),
    func.coalesce(messages.c.campaign_id, 0) != 0,
)
DUE_MESSAGES = (
    select(messages.c.id, messages.c.send_after)
    .where(IN_OUTBOX, messages.c.send_after <= bindparam("until"))
    .order_by(messages.c.send_after)
    .limit(bindparam("limit"))
)

# -- flow runs -------------------------------------------------------------------------------------
ACTIVE_RUNS = per_dialect(
    lambda d: select(
        flow_runs.c.subscriber_id,
        flow_runs.c.flow,
        flow_runs.c.step,
        flow_runs.c.waiting,
        flow_runs.c.asked_again,
        flow_runs.c.due_at,
        flow_runs.c.event,
        flow_runs.c.run_key,
    ).where(one_of(flow_runs.c.subscriber_id, "ids", d), RUN_IS_ACTIVE)
)
# By primary key alone: a status in the WHERE clause once led SQLite through an index of every
# active run. The caller keeps the active ones.
RUNS_BY_ID = select(flow_runs).where(flow_runs.c.id.in_(bindparam("ids", expanding=True)))
# A flow already running for the subscriber is not started twice, nor a flow run once per event for
# the same event: the database says so too (either unique index).
START_RUN: dict[str, Insert] = {
    dialect.__name__.rsplit(".", 1)[-1]: dialect.insert(flow_runs).on_conflict_do_nothing()
    for dialect in (sqlite, postgresql)
}
CANCEL_RUNS = (
    update(flow_runs)
    .where(flow_runs.c.subscriber_id == bindparam("b_subscriber"), RUN_IS_ACTIVE)
    .values(status="cancelled", ended_at=bindparam("b_now"), updated_at=bindparam("b_now"))
)
MOVE_RUN = (
    update(flow_runs)
    .where(
        flow_runs.c.subscriber_id == bindparam("b_subscriber"),
        flow_runs.c.flow == bindparam("b_flow"),
        flow_runs.c.run_key == bindparam("b_key"),
        RUN_IS_ACTIVE,
    )
    .values(
        status=bindparam("b_status"),
        step=bindparam("b_step"),
        waiting=bindparam("b_waiting"),
        asked_again=bindparam("b_asked_again"),
        due_at=bindparam("b_due_at"),
        ended_at=bindparam("b_ended_at"),
        updated_at=bindparam("b_now"),
    )
)
DUE_RUNS = (
    select(flow_runs.c.id, flow_runs.c.due_at)
    .where(RUN_IS_ACTIVE, flow_runs.c.due_at <= bindparam("until"))
    .order_by(flow_runs.c.due_at)
    .limit(bindparam("limit"))
)
