"""The statements the pipeline runs, built once: composing a statement costs more than running it
on a small batch. Parameters of `update` statements are prefixed `b_`, never a column's name."""

from __future__ import annotations

from sqlalchemy import Insert, bindparam, func, or_, select, update
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

# -- subscribers -----------------------------------------------------------------------------------
SUBSCRIBERS_BY_PHONE = select(subscribers).where(subscribers.c.phone.in_(bindparam("phones", expanding=True)))
LOCK_SENDERS = SUBSCRIBERS_BY_PHONE.with_for_update()  # built once: a cache key is not worked out again
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
STORED_SIDS = select(messages.c.sid).where(messages.c.sid.in_(bindparam("sids", expanding=True)))
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
ACTIVE_RUNS = select(
    flow_runs.c.subscriber_id,
    flow_runs.c.flow,
    flow_runs.c.step,
    flow_runs.c.waiting,
    flow_runs.c.asked_again,
    flow_runs.c.due_at,
    flow_runs.c.event,
    flow_runs.c.run_key,
).where(flow_runs.c.subscriber_id.in_(bindparam("ids", expanding=True)), RUN_IS_ACTIVE)
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
