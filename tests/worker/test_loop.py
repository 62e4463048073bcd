"""The worker against the real app, Redis and database, the local Twilio API, and a clock we move."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from bot.channels.dryrun import DryRunSender
from bot.domain.quiet_hours import QuietHours
from bot.logs import JsonLines
from bot.pipeline import sending
from bot.store.schema import flow_runs, messages, subscribers
from bot.worker.loop import Worker
from tests.conftest import (
    FROM_NUMBER,
    PUBLIC_URL,
    TOKEN,
    ClientFactory,
    Phone,
    record,
    services_of,
)
from tests.conftest import messages as messages_of
from tests.fake_twilio import FakeTwilio
from tests.worker.conftest import Clock, WorkerFactory, sending_app

LOS_ANGELES = ZoneInfo("America/Los_Angeles")
SHOE_DAY = "Acme Outfitters: Ana, new running shoes just landed. Reply STOP to opt out."


async def joined(app: Any, number: str = "+14155550123", *, shoes: bool = True) -> Phone:
    """A subscriber who joined, answered both questions and (maybe) texted SHOES: a day's wait ahead."""
    phone = Phone(app, number, token=TOKEN, public_url=PUBLIC_URL)
    for body in ("JOIN", "Ana", "04/23", *(["SHOES"] if shoes else [])):
        await phone.text(body)
    return phone


async def due_at(app: Any, number: str = "+14155550123") -> datetime:
    [run] = (await record(app, number))["flows"]
    return datetime.fromisoformat(run["due_at"])


async def sent_by_worker(app: Any, number: str = "+14155550123") -> list[dict[str, Any]]:
    return [m for m in await messages_of(app, number) if m["direction"] == "outbound" and m["ref"][0] == "r"]


async def test_a_day_after_joining_the_worker_sends_the_shoe_message_from_our_number(
    app: Any, api: FakeTwilio, make_worker: WorkerFactory
) -> None:
    await joined(app)
    clock = Clock(await due_at(app) + timedelta(seconds=1))
    worker = make_worker(clock)
    tick = await worker.tick()
    assert (tick.stepped, tick.sent) == (1, 1)
    [handed] = api.accepted()
    assert (handed["to"], handed["from"], handed["body"]) == ("+14155550123", FROM_NUMBER, SHOE_DAY)
    [stored] = await sent_by_worker(app)
    assert handed["status_callback"] == f"{PUBLIC_URL}/twilio/status?ref={stored['ref']}"
    assert (stored["sid"], stored["status"], stored["body"]) == (handed["sid"], "queued", SHOE_DAY)
    [run] = (await record(app))["flows"]
    assert run["status"] == "ended"
    assert (await worker.tick()).sent == 0 and len(api.accepted()) == 1  # nothing twice


async def test_without_shoes_in_their_interests_they_get_this_weeks_picks(
    app: Any, api: FakeTwilio, make_worker: WorkerFactory
) -> None:
    await joined(app, shoes=False)
    worker = make_worker(Clock(await due_at(app)))
    await worker.tick()
    assert [m["body"] for m in api.accepted()] == [
        "Acme Outfitters: Ana, this week's picks are in store now. Reply STOP to opt out."
    ]


async def test_nothing_is_sent_before_it_is_due(
    app: Any, api: FakeTwilio, make_worker: WorkerFactory
) -> None:
    await joined(app)
    clock = Clock(await due_at(app) - timedelta(seconds=10))
    worker = make_worker(clock)
    assert (await worker.tick()).sent == 0
    clock.advance(seconds=10)
    assert (await worker.tick()).sent == 1


async def test_stop_in_the_middle_of_a_welcome_flow_cancels_every_pending_step(
    app: Any, api: FakeTwilio, make_worker: WorkerFactory
) -> None:
    stepped = await joined(app, "+14155550123")
    queued = await joined(app, "+14155550124")
    clock = Clock(await due_at(app, "+14155550124") + timedelta(seconds=1))
    worker = make_worker(clock, send_rate=0.001)  # the rate holds every message back
    worker.batch = 1
    await worker.feed()
    await worker.step_runs()  # the first one's step ran: its message waits in the outbox
    [pending] = await sent_by_worker(app, "+14155550123")
    assert pending["status"] == "pending"
    await stepped.text("STOP")
    await queued.text("STOP")  # the second one's run was queued in Redis, its step not yet run
    fast = make_worker(clock)
    for _ in range(3):
        await fast.tick()
    assert api.accepted() == []
    assert [m["status"] for m in await sent_by_worker(app, "+14155550123")] == ["cancelled"]
    assert await sent_by_worker(app, "+14155550124") == []
    assert [r["status"] for r in (await record(app, "+14155550124"))["flows"]] == ["cancelled"]


async def test_marketing_due_at_night_waits_for_the_window_to_open_in_the_subscribers_zone(
    app: Any, api: FakeTwilio, make_worker: WorkerFactory
) -> None:
    await joined(app)  # a San Francisco number: 8:00-21:00 Pacific
    due = (await due_at(app)).astimezone(LOS_ANGELES)
    night = datetime.combine(due.date() + timedelta(days=1), time(22, 0), tzinfo=LOS_ANGELES)
    clock = Clock(night.astimezone(UTC))
    worker = make_worker(clock, quiet_hours=QuietHours())
    assert (await worker.tick()).sent == 0
    [held] = await sent_by_worker(app)
    assert held["status"] == "pending"
    opening = datetime.combine(night.date() + timedelta(days=1), time(8, 0), tzinfo=LOS_ANGELES)
    clock.at = opening.astimezone(UTC) - timedelta(seconds=1)
    assert (await worker.tick()).sent == 0
    clock.at = opening.astimezone(UTC)
    assert (await worker.tick()).sent == 1
    assert [m["body"] for m in api.accepted()] == [SHOE_DAY]


async def test_transactional_replies_are_not_held_by_quiet_hours(app: Any) -> None:
    # HELP at any hour is answered at once: replies go back in the webhook's response.
    phone = Phone(app, token=TOKEN, public_url=PUBLIC_URL)
    assert "help" in (await phone.text("HELP")).lower()


async def make_due_now(app: Any) -> None:
    """Test set-up: every waiting run falls due now (as if the day had passed)."""
    engine = services_of(app).engine
    async with engine.begin() as conn:
        await conn.execute(
            update(flow_runs).where(flow_runs.c.status == "active").values(due_at=datetime.now(UTC))
        )


async def test_flow_steps_go_out_at_the_configured_rate_per_number(
    app: Any, api: FakeTwilio, make_worker: WorkerFactory
) -> None:
    numbers = [f"+1415555{n:04d}" for n in range(6)]
    for number in numbers:
        await joined(app, number)
    start = max([await due_at(app, n) for n in numbers])
    clock = Clock(start)
    worker = make_worker(clock, send_rate=2.0)
    sent_by: list[tuple[float, int]] = []
    for quarter in range(13):
        clock.at = start + timedelta(seconds=quarter * 0.25)
        await worker.tick()
        sent_by.append((quarter * 0.25, len(api.accepted())))
    # Two a second: one at once, then one every half second, never ahead of that.
    assert sent_by == [(t, min(6, 1 + int(t / 0.5))) for t, _ in sent_by]


async def test_replies_in_twiml_are_counted_first_and_flow_steps_wait_for_room(
    make_client: ClientFactory,
    twilio_api: tuple[FakeTwilio, str],
    api: FakeTwilio,
    make_worker: WorkerFactory,
) -> None:
    slow = await sending_app(make_client, twilio_api, 2.0)
    await joined(slow, "+14155550123")
    await make_due_now(slow)
    chatty = Phone(slow, "+14155550177", token=TOKEN, public_url=PUBLIC_URL)
    for _ in range(5):
        await chatty.text("HELP")  # five replies from our number, sent by the carrier at once
    worker = make_worker(lambda: datetime.now(UTC), client=slow)  # real time, as the webhook's
    tick = await worker.tick()
    # Eleven replies (the join's six, five HELPs) at two a second fill 5.5 s: the step waits.
    assert (tick.stepped, tick.sent) == (1, 0)
    assert tick.wait is not None and 4.5 < tick.wait <= 5.5
    assert api.accepted() == []


async def test_a_bucket_full_of_replies_holds_back_sending_but_not_the_next_flow_step(
    make_client: ClientFactory,
    twilio_api: tuple[FakeTwilio, str],
    api: FakeTwilio,
    make_worker: WorkerFactory,
) -> None:
    slow = await sending_app(make_client, twilio_api, 1 / 60)  # the join replies fill the bucket for minutes
    await joined(slow, "+14155550123")
    await joined(slow, "+14155550124")
    engine = services_of(slow).engine
    async with engine.begin() as conn:  # the first run is due now, the second in half a second
        for number, delay in (("+14155550123", 0.0), ("+14155550124", 0.5)):
            theirs = select(subscribers.c.id).where(subscribers.c.phone == number).scalar_subquery()
            due = datetime.now(UTC) + timedelta(seconds=delay)
            await conn.execute(
                update(flow_runs).where(flow_runs.c.subscriber_id == theirs).values(due_at=due)
            )
    worker = make_worker(lambda: datetime.now(UTC), client=slow)
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    try:
        for _ in range(300):
            if len(await sent_by_worker(slow, "+14155550124")) == 1:
                break
            await asyncio.sleep(0.01)
    finally:
        stop.set()
        await running
    assert [m["status"] for m in await sent_by_worker(slow, "+14155550124")] == ["pending"]  # stepped
    assert api.accepted() == []  # and held by the rate


async def test_an_opt_out_at_the_carrier_unsubscribes_and_stops_the_flow(
    app: Any, api: FakeTwilio, make_worker: WorkerFactory
) -> None:
    await joined(app)
    api.opted_out.add("+14155550123")
    worker = make_worker(Clock(await due_at(app)))
    await worker.tick()
    found = await record(app)
    assert found["status"] == "unsubscribed"
    assert found["consent"][-1]["action"] == "opt_out" and found["consent"][-1]["source"] == "carrier:21610"
    [failed] = await sent_by_worker(app)
    assert (failed["status"], failed["error_code"]) == ("failed", 21610)


async def test_a_temporary_failure_is_tried_again_later_and_sent_once(
    app: Any, api: FakeTwilio, make_worker: WorkerFactory
) -> None:
    await joined(app)
    api.fail_next = [503]
    clock = Clock(await due_at(app))
    worker = make_worker(clock)
    assert (await worker.tick()).sent == 1  # tried: the API said 503
    assert api.accepted() == [] and [m["status"] for m in await sent_by_worker(app)] == ["pending"]
    clock.advance(seconds=1)
    await worker.tick()
    assert api.accepted() == []  # the retry waits its back-off
    clock.advance(seconds=2)
    await worker.tick()
    assert [m["body"] for m in api.accepted()] == [SHOE_DAY]


async def dispatched_then_died(app: Any, worker: Worker, now: datetime) -> sending.Claimed:
    """A worker that claimed the message and then died before recording the carrier's answer."""
    await worker.feed()
    await worker.step_runs()
    [_row] = await sent_by_worker(app)
    ids = [row_id for (row_id,) in await _outbox_ids(app)]
    claims = await worker._transactions.run(
        sending.claim, ids, worker.settings.quiet_hours, now, worker.takeover
    )
    [claimed] = claims.ready
    return claimed


async def _outbox_ids(app: Any) -> list[tuple[int]]:
    engine = services_of(app).engine
    async with engine.connect() as conn:
        return [
            (r.id,) for r in await conn.execute(select(messages.c.id).where(messages.c.run_id.is_not(None)))
        ]


async def test_a_message_the_carrier_took_before_the_worker_died_is_not_sent_again(
    app: Any, api: FakeTwilio, make_worker: WorkerFactory
) -> None:
    await joined(app)
    clock = Clock(await due_at(app))
    dying = make_worker(clock)
    claimed = await dispatched_then_died(app, dying, clock())
    await dying.sender.send(  # the API accepted it; the worker died before storing the sid
        outbox_message(claimed)
    )
    clock.advance(seconds=dying.takeover.total_seconds() + 1)
    await make_worker(clock).tick()
    assert len(api.accepted()) == 1
    [stored] = await sent_by_worker(app)
    assert stored["sid"] == api.accepted()[0]["sid"] and stored["status"] == "queued"


async def test_a_message_lost_with_its_worker_before_the_carrier_took_it_is_sent_once(
    app: Any, api: FakeTwilio, make_worker: WorkerFactory
) -> None:
    await joined(app)
    clock = Clock(await due_at(app))
    await dispatched_then_died(app, make_worker(clock), clock())
    assert (await make_worker(clock).tick()).sent == 0  # within its lease: maybe still on its way
    clock.advance(seconds=31)
    assert (await make_worker(clock).tick()).sent == 0  # its call may still be on the wire, unanswered
    clock.advance(seconds=15)
    await make_worker(clock).tick()
    assert [m["body"] for m in api.accepted()] == [SHOE_DAY]


def outbox_message(claimed: sending.Claimed) -> Any:
    from bot.channels.base import OutboundMessage

    return OutboundMessage(claimed.ref, claimed.to, claimed.body, claimed.media_urls)


async def test_without_credentials_the_worker_records_messages_as_simulated(
    app: Any, api: FakeTwilio, make_worker: WorkerFactory
) -> None:
    await joined(app)
    worker = make_worker(Clock(await due_at(app)), twilio_account_sid=None)
    assert isinstance(worker.sender, DryRunSender)
    await worker.tick()
    assert api.accepted() == []
    assert [m["status"] for m in await sent_by_worker(app)] == ["simulated"]


async def test_a_redis_flush_loses_no_due_step(app: Any, api: FakeTwilio, make_worker: WorkerFactory) -> None:
    await joined(app)
    clock = Clock(await due_at(app))
    worker = make_worker(clock, send_rate=0.001)
    await worker.feed()
    await worker.step_runs()  # stepped; its message waits in Redis for the rate
    await services_of(app).redis.flushdb()
    fresh = make_worker(clock)
    await fresh.tick()
    assert [m["body"] for m in api.accepted()] == [SHOE_DAY]


async def test_a_slow_api_holds_the_living_workers_lease_and_the_step_goes_out_once(
    app: Any, api: FakeTwilio, make_worker: WorkerFactory
) -> None:
    await joined(app)
    await make_due_now(app)
    api.create_after = 6.0  # longer than the lease: the call is still on the wire when it ends
    worker = make_worker(lambda: datetime.now(UTC), send_lease=3.0, api_timeout=10.0)
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    try:
        for _ in range(100):
            await asyncio.sleep(0.1)
            if api.accepted():
                break
        await asyncio.sleep(4)  # a takeover, if there were one, would have sent again by now
    finally:
        stop.set()
        await running
    assert [m["body"] for m in api.accepted()] == [SHOE_DAY]
    assert len(api.received) == 1  # one call, never repeated
    [stored] = await sent_by_worker(app)
    assert stored["sid"] == api.accepted()[0]["sid"]


async def test_a_worker_that_dies_mid_call_to_a_slow_api_is_looked_up_not_sent_again(
    app: Any, api: FakeTwilio, make_worker: WorkerFactory
) -> None:
    await joined(app)
    clock = Clock(await due_at(app))
    dying = make_worker(clock, send_lease=3.0, api_timeout=2.0)
    claimed = await dispatched_then_died(app, dying, clock())
    api.create_after = 1.0  # its call is taken a second after it was made; the worker is gone by then
    call = asyncio.create_task(dying.sender.send(outbox_message(claimed)))
    clock.advance(seconds=3.5)  # past the lease, within the call's own timeout: still unknown
    successor = make_worker(clock, send_lease=3.0, api_timeout=2.0)
    # Within the call's own timeout the successor neither sends nor asks yet (whether or not the
    # API has taken the dead worker's call meanwhile: that depends on how long this round took).
    assert (await successor.tick()).sent == 0 and len(api.received) == 1
    await call  # the API takes it
    clock.advance(seconds=2)  # the dead worker's call is long over: the carrier's listing is final
    await successor.tick()
    assert len(api.accepted()) == 1 and len(api.received) == 1
    [stored] = await sent_by_worker(app)
    assert stored["sid"] == api.accepted()[0]["sid"]


async def test_a_call_that_times_out_is_looked_up_after_the_lease_not_sent_again(
    app: Any, api: FakeTwilio, make_worker: WorkerFactory
) -> None:
    await joined(app)
    clock = Clock(await due_at(app))
    api.delay = 2.0  # taken at once, answered too late
    worker = make_worker(clock, send_lease=3.0, api_timeout=0.5)
    await worker.tick()  # the call times out: unknown, not failed
    [stored] = await sent_by_worker(app)
    assert stored["status"] == "dispatching" and len(api.accepted()) == 1
    clock.advance(seconds=4)
    await worker.tick()
    assert len(api.received) == 1
    [stored] = await sent_by_worker(app)
    assert stored["sid"] == api.accepted()[0]["sid"]


async def test_the_log_of_a_hand_over_names_the_text_that_started_its_flow(
    app: Any, api: FakeTwilio, make_worker: WorkerFactory
) -> None:
    """SMSBOT_LOG_FORMAT=json's request id follows the message: the MessageSid of the JOIN that
    started the welcome flow, then the step's own ref."""
    await joined(app)
    api.fail_next = [503]
    written = io.StringIO()
    handler = logging.StreamHandler(written)
    handler.setFormatter(JsonLines())
    logging.getLogger("bot").addHandler(handler)
    try:
        assert (await make_worker(Clock(await due_at(app))).tick()).sent == 1  # the API said 503
    finally:
        logging.getLogger("bot").removeHandler(handler)
    [failed] = [json.loads(line) for line in written.getvalue().splitlines() if "failed" in line]
    async with services_of(app).engine.connect() as conn:
        [started_by] = (await conn.execute(select(flow_runs.c.started_by))).scalars().all()
    assert started_by.startswith("SM") and failed["request_id"].startswith(f"{started_by}/r")
