"""A/B tests at the carrier: the test group gets its variants, the rest wait; after the wait the
variant more people tapped goes to the rest, by a worker started after the first one stopped; by
hand, a pick sends at once and a second is refused; a cancel during the wait sends nothing more.
The worker sends through the local Twilio API on a clock we move."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from bot.store.rows import new_subscriber
from bot.store.schema import subscribers
from tests.conftest import PUBLIC_URL, ClientFactory, services_of
from tests.fake_twilio import FakeTwilio
from tests.worker.conftest import Clock, WorkerFactory, sending_app
from tests.worker.test_campaigns import failing, smsbot

TEST = """
campaigns:
  winter:
    segment: all_subscribers
    message: 'Acme: winter sale, variant A {{ link("https://acme.example/a") }} Reply STOP to opt out'
    smart_sending: false
    test:
      variants:
        b: {message: 'Acme: winter boots, variant B {{ link("https://acme.example/b") }} Reply STOP to opt out'}
      share: 50
      metric: click_rate
      wait: 4h
"""
PEOPLE = [f"+1415555{n:04d}" for n in range(20)]


@pytest.fixture
async def app(make_client: ClientFactory, twilio_api: tuple[FakeTwilio, str], keywords_copy: Path) -> Any:
    (keywords_copy / "campaigns.yaml").write_text(TEST)
    app = await sending_app(make_client, twilio_api, 100.0, keywords_dir=keywords_copy)
    now = datetime.now(UTC)
    async with services_of(app).engine.begin() as conn:
        await conn.execute(
            subscribers.insert(),
            [{**new_subscriber(n, now), "status": "subscribed", "subscribed_at": now} for n in PEOPLE],
        )
    return app


def variants(api: FakeTwilio) -> dict[str, str]:
    """Whom the campaign reached with which variant; fails if anyone got it twice."""
    found = [
        (m["to"], "b" if "variant B" in m["body"] else "a") for m in api.accepted() if "variant" in m["body"]
    ]
    assert all(n == 1 for n in Counter(to for to, _ in found).values()), found
    return dict(found)


async def rounds(worker: Any, clock: Clock, count: int = 5) -> None:
    for _ in range(count):
        clock.advance(seconds=1)
        await worker.tick()


async def group_sent(app: Any, make_worker: WorkerFactory) -> tuple[Any, Clock, Any]:
    """The campaign sent and its test group's texts handed over: (settings, clock, worker)."""
    settings = services_of(app).settings
    await smsbot(settings, "campaign", "send", "winter", "--yes")
    clock = Clock(datetime.now(UTC))
    worker = make_worker(clock)
    await rounds(worker, clock)
    return settings, clock, worker


async def tap(app: Any, api: FakeTwilio, phone: str) -> None:
    [body] = [m["body"] for m in api.accepted() if m["to"] == phone and "variant" in m["body"]]
    [link] = [w for w in body.split() if w.startswith(f"{PUBLIC_URL}/l/")]
    answer = await app.get(urlsplit(link).path, allow_redirects=False, headers={"User-Agent": "Mozilla/5.0"})
    assert answer.status == 302


async def test_the_variant_tapped_most_goes_to_the_rest_after_the_wait_across_a_restart(
    app: Any, api: FakeTwilio, make_worker: WorkerFactory
) -> None:
    settings = services_of(app).settings
    preview = json.loads(await smsbot(settings, "campaign", "preview", "winter", "--json"))
    assert preview["test"]["tested"] == 10 and set(preview["test"]["variants"]) == {"a", "b"}
    await smsbot(settings, "campaign", "send", "winter", "--yes")
    clock = Clock(datetime.now(UTC))
    first = make_worker(clock)
    await rounds(first, clock)
    tested = variants(api)
    assert Counter(tested.values()) == {"a": 5, "b": 5}  # half the audience, split evenly
    status = json.loads(await smsbot(settings, "campaign", "status", "winter", "--json"))
    assert status["status"] == "sending" and status["recipients"]["waiting for the winner"] == 10
    for phone in [p for p, v in tested.items() if v == "b"][:3]:
        await tap(app, api, phone)
    writer = services_of(app).services.writer
    assert writer is not None
    await writer.probe()  # the clicks are committed

    second = make_worker(clock)  # the first worker is gone; another takes over
    clock.advance(hours=3, minutes=58)
    await rounds(second, clock)
    assert len(variants(api)) == 10  # not before the wait
    clock.advance(minutes=3)
    await rounds(second, clock)
    reached = variants(api)
    assert len(reached) == 20 and all(reached[p] == "b" for p in PEOPLE if p not in tested)
    report = json.loads(await smsbot(settings, "campaign", "report", "winter", "--json"))["test"]
    assert report["winner"] == "b"
    assert (report["variants"]["a"]["sent"], report["variants"]["a"]["unique_clicks"]) == (5, 0)
    assert (report["variants"]["b"]["sent"], report["variants"]["b"]["unique_clicks"]) == (5, 3)
    assert report["difference"]["verdict"] == "too small to call"
    status = json.loads(await smsbot(settings, "campaign", "status", "winter", "--json"))
    assert status["status"] == "finished"


async def test_a_winner_picked_by_hand_goes_at_once_and_only_once(
    app: Any, api: FakeTwilio, make_worker: WorkerFactory
) -> None:
    settings, clock, worker = await group_sent(app, make_worker)
    tested = variants(api)
    assert "variant a goes to the rest" in await smsbot(settings, "campaign", "winner", "winter", "a")
    assert "picked already" in await failing(settings, "campaign", "winner", "winter", "b")
    await rounds(worker, clock)
    reached = variants(api)
    assert len(reached) == 20 and all(reached[p] == "a" for p in PEOPLE if p not in tested)


async def test_a_cancel_during_the_wait_sends_the_rest_nothing(
    app: Any, api: FakeTwilio, make_worker: WorkerFactory
) -> None:
    settings, clock, worker = await group_sent(app, make_worker)
    await smsbot(settings, "campaign", "cancel", "winter")
    clock.advance(hours=5)
    await rounds(worker, clock)
    assert len(variants(api)) == 10
    status = json.loads(await smsbot(settings, "campaign", "status", "winter", "--json"))
    assert status["status"] == "cancelled" and status["recipients"]["skipped: cancelled"] == 10


async def test_a_pause_over_the_wait_holds_the_winner_until_resumed(
    app: Any, api: FakeTwilio, make_worker: WorkerFactory
) -> None:
    settings, clock, worker = await group_sent(app, make_worker)
    await smsbot(settings, "campaign", "pause", "winter")
    clock.advance(hours=5)
    await rounds(worker, clock)
    assert len(variants(api)) == 10  # paused: no winner, nothing to the rest
    report = json.loads(await smsbot(settings, "campaign", "report", "winter", "--json"))
    assert report["test"]["winner"] is None
    await smsbot(settings, "campaign", "resume", "winter")
    await rounds(worker, clock)
    assert len(variants(api)) == 20  # the winner (a tie: a) goes as soon as it is sending again
    assert set(variants(api).values()) == {"a", "b"}
