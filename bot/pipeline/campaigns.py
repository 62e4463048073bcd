"""A campaign's sending, in transactions: the audience fixed once, messages queued in slices.

- `start` fixes the audience (subscribed members of the segment, now) and what is sent (the
  definition, kept with the campaign): editing the YAML later changes nothing already decided.
- `queue_due` turns due recipients into outbox messages a slice at a time, as the gate lets each
  (bot.domain.gate: subscribed, smart sending, quiet hours), so flow steps keep their place at the
  number's rate; each recipient's message has the ref `c{campaign}.{subscriber}.{attempt}`
  (unique): a slice queued twice stores nothing twice. The worker sends them like any other message.
- A campaign is finished when every recipient is final: none waits to be queued, and none of its
  messages waits to be handed over; until then it can be paused or cancelled.
- `pause`, `resume`, `cancel`, `retry_failed`: a paused campaign's unsent messages go back to pending.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import and_, bindparam, func, insert, literal, select, update
from sqlalchemy.engine import Connection

from bot.domain.campaigns import Campaign, Pace, Status
from bot.domain.coupons import NO_COUPON, PoolEmpty
from bot.domain.gate import Cancel, Hold, Outgoing, Purpose, Reason, Since, Verdict, may_send
from bot.domain.model import Program
from bot.domain.outcome import Policy
from bot.domain.quiet_hours import QuietHours
from bot.domain.subscription import Status as SubscriberStatus
from bot.domain.templates import LocalizedMessage, compile_template
from bot.domain.text import sendable
from bot.domain.voice import Voice
from bot.pipeline import ab_tests
from bot.pipeline.changes import Changes, lock_subscribers
from bot.pipeline.coupons import CouponDesk
from bot.pipeline.gating import Marketing, marketing_of
from bot.pipeline.gating import recipient as gate_recipient
from bot.store import rows
from bot.store.schema import (
    IN_OUTBOX,
    RECIPIENT_IS_PENDING,
    UTCDateTime,
    campaign_recipients,
    campaigns,
    messages,
    subscribers,
)
from bot.store.segments import where

FAILED = ("failed", "undelivered")


class CampaignProblem(ValueError):
    """Why a campaign cannot be started or changed now, said to the marketer."""


@dataclass(frozen=True)
class Started:
    id: int
    round: int
    audience: int


def start(
    conn: Connection,
    campaign: Campaign,
    program: Program,
    quiet: QuietHours,
    now: datetime,
    started_by: str,
    *,
    again: bool = False,
    allow_empty: bool = False,
) -> Started:
    """Fix the audience and the message; raise CampaignProblem if it was sent already (unless
    `again`) or its audience is empty (unless `allow_empty`)."""
    rounds = conn.execute(
        select(func.max(campaigns.c.round), func.count()).where(campaigns.c.name == campaign.name)
    ).one()
    if rounds[1] and not again:
        raise CampaignProblem(
            f"campaign {campaign.name} was already sent; sending the same audience again is a new, "
            "explicit action: smsbot campaign send --again"
        )
    round_ = (rounds[0] or 0) + 1
    definition = {**campaign.definition(), "name": campaign.name}
    campaign_id = conn.execute(
        insert(campaigns)
        .values(
            name=campaign.name,
            round=round_,
            status=Status.SENDING.value,
            fingerprint=campaign.fingerprint,
            definition=definition,
            audience=0,
            started_by=started_by[:100],
            started_at=now,
            updated_at=now,
        )
        .returning(campaigns.c.id)
    ).scalar_one()
    audience = _fix_audience(conn, campaign_id, campaign, program, quiet, now)
    if campaign.test is not None:  # an A/B test: its group drawn now, from the campaign's own seed
        ab_tests.draw(conn, campaign_id, definition["test"], f"{campaign.name}:{round_}")
    if audience == 0 and not allow_empty:
        raise CampaignProblem(
            f"campaign {campaign.name}: segment {campaign.segment} has no subscribed member"
        )
    conn.execute(update(campaigns).where(campaigns.c.id == campaign_id).values(audience=audience))
    return Started(campaign_id, round_, audience)


def due_by_schedule(program: Program, now: datetime, late_after: timedelta) -> list[Campaign]:
    """The campaigns whose scheduled time has come and is not yet `late_after` old (pure: the worker
    opens a transaction only when there is one)."""
    return [
        c
        for c in program.campaigns.values()
        if (at := c.starts_at(program.info.zone)) is not None and at <= now < at + late_after
    ]


def start_scheduled(
    conn: Connection, program: Program, quiet: QuietHours, now: datetime, late_after: timedelta
) -> list[Started]:
    """Start each campaign whose time has come (not one whose time passed longer than `late_after`
    ago: that waits for an explicit send). Never one sent before, under this name or another."""
    due = due_by_schedule(program, now, late_after)
    if not due:
        return []
    names = {c.name for c in due}
    fingerprints = {c.fingerprint for c in due}
    sent = conn.execute(
        select(campaigns.c.name, campaigns.c.fingerprint).where(
            (campaigns.c.name.in_(names)) | (campaigns.c.fingerprint.in_(fingerprints))
        )
    ).all()
    known = {row.name for row in sent} | {row.fingerprint for row in sent}
    started = []
    for campaign in due:
        if campaign.name in known or campaign.fingerprint in known:
            continue
        # An empty audience is kept too (finished, to nobody): the schedule has had its turn.
        started.append(start(conn, campaign, program, quiet, now, "schedule", allow_empty=True))
    return started


def audience_where(campaign: Campaign, program: Program, dialect: str, now: datetime) -> Any:
    """The segment's members who are subscribed: a campaign never reaches anyone else."""
    segment = program.segments[campaign.segment]
    member = where(segment.condition, dialect, program.segments, now, program.info.zone)
    return and_(member, subscribers.c.status == SubscriberStatus.SUBSCRIBED.value)


def _fix_audience(
    conn: Connection, campaign_id: int, campaign: Campaign, program: Program, quiet: QuietHours, now: datetime
) -> int:
    audience = audience_where(campaign, program, conn.dialect.name, now)
    pace = Pace.of(campaign.definition(), now, 0)
    if pace.uniform:  # everyone now: one INSERT ... SELECT, however large the audience
        chosen = select(
            literal(campaign_id),
            subscribers.c.id,
            literal("pending"),
            literal(now, UTCDateTime()),
            literal(now, UTCDateTime()),
        ).where(audience)
        inserted = conn.execute(
            insert(campaign_recipients).from_select(
                ["campaign_id", "subscriber_id", "status", "send_after", "updated_at"], chosen
            )
        )
        return int(inserted.rowcount)
    people = conn.execute(
        select(subscribers.c.id, subscribers.c.phone).where(audience).order_by(subscribers.c.id)
    ).all()
    pace = replace(pace, total=len(people))
    batch = [
        {
            "campaign_id": campaign_id,
            "subscriber_id": row.id,
            "status": "pending",
            "send_after": pace.send_after(index, quiet.zones(row.phone)[0]),
            "updated_at": now,
        }
        for index, row in enumerate(people)
    ]
    if batch:
        conn.execute(insert(campaign_recipients), batch)
    return len(batch)


# -- queueing due recipients ------------------------------------------------------------------------


@dataclass(frozen=True)
class Queued:
    messages: dict[int, datetime]  # new outbox message id -> send after
    finished: int = 0  # campaigns with nobody left to queue


_SENDING = select(campaigns.c.id, campaigns.c.definition, campaigns.c.winner).where(
    campaigns.c.status == Status.SENDING.value
)
ANY_SENDING = select(campaigns.c.id).where(campaigns.c.status == Status.SENDING.value).limit(1)
_SENDING_IDS = select(campaigns.c.id).where(campaigns.c.status == Status.SENDING.value)
IN_PROGRESS = select(  # for the metrics: campaigns sending, and their recipients not yet queued
    select(func.count()).select_from(_SENDING_IDS.subquery()).scalar_subquery(),
    select(func.count())
    .where(RECIPIENT_IS_PENDING, campaign_recipients.c.campaign_id.in_(_SENDING_IDS))
    .scalar_subquery(),
)
_DUE = (
    select(
        campaign_recipients.c.id,
        campaign_recipients.c.subscriber_id,
        campaign_recipients.c.send_after,
        campaign_recipients.c.attempt,
        campaign_recipients.c.variant,
    )
    .where(
        campaign_recipients.c.campaign_id == bindparam("campaign"),
        RECIPIENT_IS_PENDING,
        campaign_recipients.c.send_after <= bindparam("until"),
    )
    .order_by(campaign_recipients.c.send_after)
    .limit(bindparam("limit"))
)
_NEW_BY_REF = select(messages.c.id, messages.c.ref, messages.c.send_after).where(
    messages.c.ref.in_(bindparam("refs", expanding=True))
)
_ANY_PENDING = (
    select(campaign_recipients.c.id)
    .where(
        campaign_recipients.c.campaign_id == bindparam("campaign"),
        campaign_recipients.c.status.in_(("pending", ab_tests.WAITING)),  # an A/B test's rest waits
    )
    .limit(1)
)
# A message of the campaign not yet handed over (waiting, held by quiet hours, or on the wire): the
# campaign is still sending, and can still be paused or cancelled. Through the outbox's index (what
# waits), not the campaign's (every message it ever sent: walked from the oldest, all of them sent, on
# every look near the end of a large campaign); coalesce keeps SQLite from choosing the latter.
_ANY_UNSENT = (
    select(messages.c.id)
    .where(IN_OUTBOX, func.coalesce(messages.c.campaign_id, 0) == bindparam("campaign"))
    .limit(1)
)
_MARK_RECIPIENT = (
    update(campaign_recipients)
    .where(campaign_recipients.c.id == bindparam("b_id"))
    .values(
        status=bindparam("b_status"),
        reason=bindparam("b_reason"),
        message_id=bindparam("b_message"),
        updated_at=bindparam("b_now"),
    )
)


def _all_final(conn: Connection, campaign_id: int) -> bool:
    """Every recipient sent, delivered, failed, skipped or cancelled: none waits to be queued, and
    none of its messages waits to be handed over."""
    if conn.execute(_ANY_PENDING, {"campaign": campaign_id}).first() is not None:
        return False
    return conn.execute(_ANY_UNSENT, {"campaign": campaign_id}).first() is None


def queue_due(
    conn: Connection,
    program: Program,
    policy: Policy,
    quiet: QuietHours,
    now: datetime,
    until: datetime,
    limit: int,
) -> Queued:
    """Up to `limit` due recipients of the campaigns sending now become outbox messages (or are
    skipped, with the gate's reason: unsubscribed since, smart sending, nothing to say)."""
    changes = Changes(now, coupons=CouponDesk(conn, now))
    queued_now: dict[int, datetime] = {}  # subscriber -> a campaign message queued in this transaction
    marks: list[dict[str, Any]] = []
    refs: dict[str, int] = {}  # message ref -> recipient id
    finished = 0
    for campaign_id, definition, winner in conn.execute(_SENDING).all():
        room = limit - len(marks) - len(refs)  # recipients decided so far: skipped, or queued
        if room <= 0:
            break
        query = _DUE.with_for_update(skip_locked=True) if conn.dialect.name == "postgresql" else _DUE
        due = conn.execute(query, {"campaign": campaign_id, "until": until, "limit": room}).all()
        if not due and _all_final(conn, campaign_id):
            _set_status(conn, campaign_id, Status.FINISHED, now)
            finished += 1
        slice_ = _Slice(campaign_id, definition, program, policy, quiet, changes, queued_now, winner)
        for recipient, reason in slice_.decide(conn, due):
            marks.append({"b_id": recipient.id, "b_status": "skipped", "b_reason": reason, "b_message": None})
        refs.update(slice_.refs)
    changes.write(conn)
    created = (
        {row.ref: (row.id, row.send_after) for row in conn.execute(_NEW_BY_REF, {"refs": list(refs)})}
        if refs
        else {}
    )
    marks += [
        {"b_id": recipient, "b_status": "queued", "b_reason": None, "b_message": created[ref][0]}
        for ref, recipient in refs.items()
    ]
    if marks:
        conn.execute(_MARK_RECIPIENT, [{**mark, "b_now": now} for mark in marks])
    return Queued({message_id: send_after for message_id, send_after in created.values()}, finished)


@dataclass
class _Slice:
    """One campaign's due recipients in one transaction."""

    campaign_id: int
    definition: Mapping[str, Any]
    program: Program
    policy: Policy
    quiet: QuietHours
    changes: Changes
    queued_now: dict[int, datetime]  # shared by the slices of one transaction: whom they queued for
    winner: str | None = None  # an A/B test's, once picked: what the rest get

    def __post_init__(self) -> None:
        self.refs: dict[str, int] = {}
        default = self.definition["default_language"]
        self.message = _localized(tuple(sorted(self.definition["messages"].items())), default)
        self.variants = {
            name: (_localized(tuple(sorted(v["messages"].items())), default), tuple(v.get("media") or ()))
            for name, v in (self.definition.get("test") or {}).get("variants", {}).items()
        }
        hours = self.definition.get("smart_sending_hours")
        self.window = timedelta(hours=float(hours)) if hours else None

    def decide(self, conn: Connection, due: Sequence[Any]) -> list[tuple[Any, str]]:
        """Queue a message for each recipient the gate lets have it; (recipient, reason) for the others."""
        if not due:
            return []
        people = lock_subscribers(conn, [r.subscriber_id for r in due])
        marketing = marketing_of(conn, people, self.window or timedelta(0), self.changes.now)
        skipped: list[tuple[Any, str]] = []
        for recipient in due:
            person = people.get(recipient.subscriber_id)
            if person is None:
                skipped.append((recipient, Reason.NOT_SUBSCRIBED.value))
                continue
            verdict = self._verdict(person, marketing)
            if isinstance(verdict, Cancel):
                skipped.append((recipient, verdict.reason.value))
            elif (unsent := self._queue(recipient, person, verdict)) is not None:
                skipped.append((recipient, unsent))
        return skipped

    def _verdict(self, person: rows.Row, marketing: Marketing) -> Verdict:
        now = self.changes.now
        other = marketing.latest_before(person["id"], None) if self.window else None
        if self.window and person["id"] in self.queued_now:
            other = max(filter(None, (other, self.queued_now[person["id"]])))
        message = Outgoing(Purpose.MARKETING, now, self.window)
        return may_send(message, gate_recipient(person), Since(other_marketing=other), self.quiet, now)

    def _queue(self, recipient: Any, person: rows.Row, verdict: Verdict) -> str | None:
        """Queue their message; why not, if it is not: nothing to say, or no coupon code left."""
        name = str(self.definition["name"])
        ref = f"c{self.campaign_id}.{recipient.subscriber_id}.{recipient.attempt}"
        voice = Voice.to(rows.subscriber_state(person), self.program)
        message, media = self._variant(recipient.variant)
        body = voice.message(message, person["properties"] or {}, f"campaign:{name}")
        try:
            body = self.changes.tracked(
                body, person["id"], ref, f"campaign:{name}", self.policy.link_base, self.campaign_id
            )
        except PoolEmpty:
            return NO_COUPON
        body = sendable(body)
        if not body and not media:
            return "nothing_to_send"
        due = recipient.send_after
        send_after = max(due, verdict.until) if isinstance(verdict, Hold) else due
        row = rows.outbox_message(person["id"], ref, body, media, None, due, send_after, self.changes.now)
        self.changes.messages.append({**row, "campaign_id": self.campaign_id})
        self.refs[ref] = recipient.id
        self.queued_now[person["id"]] = self.changes.now
        return None

    def _variant(self, variant: str | None) -> tuple[LocalizedMessage, tuple[str, ...]]:
        """The message and media a recipient gets: their test variant's, the winner's, or the one."""
        chosen = self.variants.get(variant or self.winner or "")
        return chosen or (self.message, tuple(self.definition.get("media") or ()))


@lru_cache(maxsize=64)
def _localized(variants: tuple[tuple[str, str], ...], default: str) -> LocalizedMessage:
    """The message as it was fixed when sending started, compiled once per process."""
    return LocalizedMessage({language: compile_template(source) for language, source in variants}, default)


# -- pausing, resuming, cancelling ------------------------------------------------------------------


def latest(conn: Connection, name: str) -> Any:
    """The campaign's latest round, or raise CampaignProblem."""
    found = conn.execute(
        select(campaigns).where(campaigns.c.name == name).order_by(campaigns.c.round.desc()).limit(1)
    ).first()
    if found is None:
        raise CampaignProblem(f"campaign {name} has not been sent")
    return found


def pick_winner(conn: Connection, name: str, variant: str | None, now: datetime) -> None:
    """An A/B test's winner, picked by the marketer (None: the rest get nothing)."""
    try:
        ab_tests.pick(conn, latest(conn, name), variant, now)
    except ab_tests.TestProblem as exc:
        raise CampaignProblem(str(exc)) from exc


def pause(conn: Connection, name: str, now: datetime) -> None:
    found = latest(conn, name)
    if found.status != Status.SENDING.value:
        raise CampaignProblem(f"campaign {name} is {found.status}, not sending")
    _unqueue(conn, found.id, now, back_to="pending")
    _set_status(conn, found.id, Status.PAUSED, now)


def resume(conn: Connection, name: str, now: datetime) -> None:
    found = latest(conn, name)
    if found.status != Status.PAUSED.value:
        raise CampaignProblem(f"campaign {name} is {found.status}, not paused")
    _set_status(conn, found.id, Status.SENDING, now)


def cancel(conn: Connection, name: str, now: datetime) -> None:
    found = latest(conn, name)
    if found.status not in (Status.SENDING.value, Status.PAUSED.value):
        raise CampaignProblem(f"campaign {name} is {found.status}: nothing left to cancel")
    _unqueue(conn, found.id, now, back_to="skipped")
    unsent = campaign_recipients.c.status.in_(("pending", ab_tests.WAITING))
    conn.execute(
        update(campaign_recipients)
        .where(campaign_recipients.c.campaign_id == found.id, unsent)
        .values(status="skipped", reason="cancelled", updated_at=now)
    )
    _set_status(conn, found.id, Status.CANCELLED, now)


def retry_failed(conn: Connection, name: str, now: datetime) -> int:
    """The recipients whose message failed get it again (a new message, a new attempt)."""
    found = latest(conn, name)
    if found.status == Status.CANCELLED.value:
        raise CampaignProblem(f"campaign {name} was cancelled")
    failed = select(messages.c.id).where(messages.c.campaign_id == found.id, messages.c.status.in_(FAILED))
    retried = conn.execute(
        update(campaign_recipients)
        .where(campaign_recipients.c.campaign_id == found.id, campaign_recipients.c.message_id.in_(failed))
        .values(
            status="pending",
            message_id=None,
            attempt=campaign_recipients.c.attempt + 1,
            send_after=now,
            updated_at=now,
        )
    ).rowcount
    if retried:
        _set_status(conn, found.id, Status.SENDING, now)
    return int(retried)


def _unqueue(conn: Connection, campaign_id: int, now: datetime, back_to: str) -> None:
    """The campaign's messages not yet handed to the carrier are withdrawn (a claim in flight wins
    or waits: both change the row under its lock); their recipients go back to `back_to`."""
    waiting = select(messages.c.id).where(
        messages.c.campaign_id == campaign_id, messages.c.status == "pending"
    )
    if conn.dialect.name == "postgresql":
        waiting = waiting.with_for_update()
    ids = list(conn.execute(waiting).scalars())
    if not ids:
        return
    conn.execute(
        update(messages)
        .where(messages.c.id.in_(ids))
        .values(status="cancelled", reason=Reason.CAMPAIGN_STOPPED.value, updated_at=now)
    )
    values: dict[str, Any] = {"status": back_to, "message_id": None, "updated_at": now}
    if back_to == "pending":
        values["attempt"] = campaign_recipients.c.attempt + 1
    else:
        values["reason"] = "cancelled"
    conn.execute(update(campaign_recipients).where(campaign_recipients.c.message_id.in_(ids)).values(values))


def _set_status(conn: Connection, campaign_id: int, status: Status, now: datetime) -> None:
    values: dict[str, Any] = {"status": status.value, "updated_at": now}
    if status in (Status.FINISHED, Status.CANCELLED):
        values["finished_at"] = now
    conn.execute(update(campaigns).where(campaigns.c.id == campaign_id).values(values))
