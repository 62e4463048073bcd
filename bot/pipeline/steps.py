"""The worker's step transaction: due flow runs move on, and what they send goes to the outbox.

Exactly-once rests here, not on Redis: a run's step and the messages it produces are committed
together, and a run is advanced only while it is due. The decision is the domain's `step_due`,
and its writes go through the same `Changes` as an inbound message's.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from bot.domain.conversation import step_due
from bot.domain.coupons import NO_COUPON, PoolEmpty, held_text
from bot.domain.gate import Cancel, Hold, Outgoing, Purpose, Since, may_send
from bot.domain.model import Program
from bot.domain.outcome import Outcome, Policy, RunChange
from bot.domain.quiet_hours import QuietHours
from bot.pipeline.automations import exited
from bot.pipeline.changes import Cause, Changes, lock_subscribers
from bot.pipeline.coupons import CouponDesk
from bot.pipeline.gating import recipient
from bot.store import rows
from bot.store.statements import NEW_OUTBOX_IDS, RUNS_BY_ID


@dataclass(frozen=True)
class Stepped:
    """What a batch of due runs became, for the queue: when to look at each run and message again."""

    runs: dict[int, datetime | None]  # run id -> next due (None: ended, cancelled, gone)
    messages: dict[int, datetime]  # new outbox message id -> send after
    started: int = 0  # flows started by `start` steps (due now; the feeder queues them)


def run_due_steps(
    conn: Connection,
    run_ids: Sequence[int],
    program: Program,
    policy: Policy,
    quiet: QuietHours,
    now: datetime,
) -> Stepped:
    """Advance every due run among `run_ids` to its next pause, writing the messages it sends."""
    # Read in full before anything below writes to the same rows; only active runs are stepped.
    runs = [run for run in conn.execute(RUNS_BY_ID, {"ids": list(run_ids)}).mappings().all()]
    people = lock_subscribers(conn, {run["subscriber_id"] for run in runs}) if runs else {}
    changes = Changes(now, coupons=CouponDesk(conn, now))
    changes.load_runs(conn, list(people))
    ended = exited(conn, runs, program.flows)  # read under the lock: an order stored meanwhile counts
    nexts: dict[int, datetime | None] = dict.fromkeys(run_ids)
    for run in sorted(runs, key=lambda run: (run["due_at"] or now, run["id"])):
        if run["status"] != "active":
            continue
        if run["due_at"] is None or run["due_at"] > now:
            nexts[run["id"]] = run["due_at"]  # moved on since it was queued (an answer came in)
            continue
        person = people[run["subscriber_id"]]
        book = changes.book(person["id"])
        if run["id"] in ended:  # its exit event came: it ends here, sending nothing
            book.apply(RunChange(run["flow"], None, started=False, key=run["run_key"]), "exit")
            continue
        outcome = step_due(
            rows.run_state(run), rows.subscriber_state(person), program, policy, book.flows(), now
        )
        flow = program.flows.get(run["flow"])
        transactional = flow is not None and flow.automation.transactional
        purpose = Purpose.TRANSACTIONAL if transactional else Purpose.MARKETING
        _to_outbox(changes, person, run, outcome, purpose, quiet, policy.link_base)
        changes.record(person, outcome, Cause(now, f"flow:{run['flow']}"))
        state = book.current.get((run["flow"], run["run_key"]))
        nexts[run["id"]] = state.due_at if state is not None else None
    changes.write(conn)
    return Stepped(nexts, _created(conn, changes), changes.started)


def _to_outbox(
    changes: Changes,
    person: rows.Row,
    run: Mapping[Any, Any],
    outcome: Outcome,
    purpose: Purpose,
    quiet: QuietHours,
    link_base: str | None,
) -> None:
    """Each message the step says goes to the outbox as the gate lets it: now, or held until quiet
    hours end in the subscriber's zone (marketing). A message that could not be written is stored
    failed, with why (the template logged it at ERROR): never dropped without a word."""
    verdict = may_send(Outgoing(purpose, changes.now), recipient(person), Since(), quiet, changes.now)
    send_after = verdict.until if isinstance(verdict, Hold) else changes.now
    origin = f"flow:{run['flow']}"
    for n, body in enumerate(outcome.replies):
        ref = f"r{run['id']}.{run['step']}.{n}.{secrets.token_hex(4)}"
        reason = verdict.reason.value if isinstance(verdict, Cancel) else None
        try:
            body = changes.tracked(body, person["id"], ref, origin, link_base) if reason is None else body
        except PoolEmpty as empty:  # held back, with why: never sent with an empty code
            body, reason = held_text(body, empty.pool), NO_COUPON
        media = outcome.media.get(n, ())
        message = rows.outbox_message(
            person["id"], ref, held_text(body), media, run["id"], run["due_at"], send_after, changes.now
        )
        message = rows.purposed(message, purpose)
        if reason is not None:
            message.update(status="cancelled", reason=reason)
        changes.messages.append(message)
    for n, problem in enumerate(outcome.failed):
        ref = f"r{run['id']}.{run['step']}.f{n}.{secrets.token_hex(4)}"
        message = rows.outbox_message(
            person["id"], ref, "", (), run["id"], run["due_at"], changes.now, changes.now
        )
        changes.messages.append({**rows.purposed(message, purpose), "status": "failed", "reason": problem})


def _created(conn: Connection, changes: Changes) -> dict[int, datetime]:
    refs = [row["ref"] for row in changes.messages if row["status"] == "pending"]
    if not refs:
        return {}
    return {found.id: found.send_after for found in conn.execute(NEW_OUTBOX_IDS, {"refs": refs})}
