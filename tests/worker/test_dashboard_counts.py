"""What the worker keeps for the dashboard: the Flows funnel's questions answered or timed out, and
every segment's count."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.http.admin import read
from bot.store import activity, segment_counts
from tests.conftest import PUBLIC_URL, TOKEN, Phone, services_of
from tests.worker.conftest import Clock, WorkerFactory
from tests.worker.test_loop import due_at


async def test_a_question_answered_and_one_left_to_time_out_are_counted_apart(
    app: Any, make_worker: WorkerFactory
) -> None:
    ana = Phone(app, "+14155550123", token=TOKEN, public_url=PUBLIC_URL)
    ben = Phone(app, "+14155550124", token=TOKEN, public_url=PUBLIC_URL)
    for phone in (ana, ben):
        await phone.text("JOIN")
    await ana.text("Ana")  # answers the first question (the third step)
    await ana.text("someday")  # not a birthday: asked again, not yet answered
    worker = make_worker(Clock(await due_at(app, "+14155550124")))  # before Ana's second question
    await worker.feed(force=True)
    assert (await worker.tick()).stepped == 1  # Ben's question timed out
    found = await read(services_of(app).services, activity.totals, ("flow_answered", "flow_timed_out"))
    assert found["flow_answered"] == {"welcome:2": (1, 0)}
    assert found["flow_timed_out"] == {"welcome:2": (1, 0)}


async def test_the_worker_counts_every_segment_once_per_interval(
    app: Any, make_worker: WorkerFactory
) -> None:
    await Phone(app, "+14155550123", token=TOKEN, public_url=PUBLIC_URL).text("JOIN")
    services = services_of(app).services
    program = services.program.current
    clock = Clock(datetime.now(UTC))
    first, second = make_worker(clock), make_worker(clock)
    assert await first.count_segments() == len(program.segments)
    assert await second.count_segments() == 0  # another worker counted in this interval
    found = await read(services, segment_counts.kept, program)
    assert (found["all_subscribers"].members, found["all_subscribers"].subscribed) == (1, 1)
