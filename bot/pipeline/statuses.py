"""What carriers report about messages we sent: delivery statuses, and numbers that opted out there.

Runs inside the writer's transactions like every other write. A delivered contact card sets the
subscriber's `vcard_received`; a number the carrier says opted out is unsubscribed exactly as by
a STOP (the domain's `opted_out_at_carrier`), its flows end and nothing queued goes out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Connection

from bot.channels.base import StatusReport
from bot.domain.conversation import card_delivered, opted_out_at_carrier
from bot.domain.delivery import moves_forward
from bot.domain.model import is_card_path
from bot.domain.outcome import Outcome
from bot.domain.voice import SubscriberState
from bot.pipeline.changes import Cause, Changes, lock_subscribers
from bot.store import rows
from bot.store.schema import messages

_OUTBOUND = select(
    messages.c.id, messages.c.status, messages.c.sid, messages.c.subscriber_id, messages.c.media_urls
).where(messages.c.direction == "outbound")
_BY_REF = _OUTBOUND.where(messages.c.ref == bindparam("key"))
_BY_SID = _OUTBOUND.where(messages.c.sid == bindparam("key"))

Decision = Callable[[SubscriberState], Outcome]


def record_statuses(conn: Connection, reports: Sequence[StatusReport], now: datetime) -> list[bool]:
    """Apply delivery reports in order; for each, False when no outbound message of ours matches."""
    found: list[bool] = []
    decisions: list[tuple[int, Decision]] = []
    for report in reports:
        row = conn.execute(_BY_REF if report.ref else _BY_SID, {"key": report.ref or report.sid}).first()
        found.append(row is not None)
        if row is None:
            continue
        conn.execute(update(messages).where(messages.c.id == row.id).values(_status_values(row, report, now)))
        if report.opted_out:
            decisions.append((row.subscriber_id, _carrier_opt_out(report.error_code, now)))
        elif report.status == "delivered" and any(is_card_path(url) for url in row.media_urls or ()):
            decisions.append((row.subscriber_id, card_delivered))
    _decide(conn, decisions, now)
    return found


def carrier_opt_outs(conn: Connection, refused: Sequence[tuple[int, int | None]], now: datetime) -> int:
    """Messages the carrier refused because their number opted out there: unsubscribe each one.
    The number of subscribers whose status changed."""
    if not refused:
        return 0
    ids = [i for i, _ in refused]
    owned = conn.execute(select(messages.c.id, messages.c.subscriber_id).where(messages.c.id.in_(ids)))
    owner: dict[int, int] = {message_id: subscriber_id for message_id, subscriber_id in owned}
    return _decide(conn, [(owner[i], _carrier_opt_out(code, now)) for i, code in refused], now)


def _status_values(row: Any, report: StatusReport, now: datetime) -> dict[str, Any]:
    values: dict[str, Any] = {"updated_at": now}
    if row.sid is None:
        values["sid"] = report.sid
    if moves_forward(report.status, row.status):
        values["status"] = report.status
        if report.error_code is not None:
            values["error_code"] = report.error_code
    return values


def _carrier_opt_out(code: int | None, now: datetime) -> Decision:
    source = f"carrier:{code}" if code else "carrier"
    return lambda subscriber: opted_out_at_carrier(subscriber, source, now)


def _decide(conn: Connection, decisions: Sequence[tuple[int, Decision]], now: datetime) -> int:
    """Take each decision on its subscriber (locked), in order, and write them; how many changed status."""
    if not decisions:
        return 0
    people = lock_subscribers(conn, {s for s, _ in decisions})
    changes = Changes(now)
    changes.load_conversations(conn, list(people))
    changed = 0
    for subscriber_id, decision in decisions:
        person = people[subscriber_id]
        outcome = decision(rows.subscriber_state(person))
        changed += bool(outcome.consent)
        changes.record(person, outcome, Cause(now, "carrier"))
    changes.write(conn)
    return changed
