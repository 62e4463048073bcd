"""The shipped automations end to end: store events in through the API, the worker sending through
the local Twilio API on a clock we move, on the real database and Redis."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select, update

from bot.store.schema import conversions, flow_runs
from tests.conftest import ADMIN, PUBLIC_URL, TOKEN, ClientFactory, Phone, services_of
from tests.fake_twilio import FakeTwilio
from tests.worker.conftest import Clock, WorkerFactory, sending_app
from tests.worker.test_campaigns import smsbot

EVENTS_TOKEN = "events-secret"
ANA, BEN = "+14155550101", "+14155550102"
IMAGE = "https://cdn.example/trail-runner.png"
CART = "https://acme.example/cart/recover?key=abc"


@pytest.fixture
async def app(make_client: ClientFactory, twilio_api: tuple[FakeTwilio, str]) -> Any:
    return await sending_app(make_client, twilio_api, 100.0, events_token=EVENTS_TOKEN)


def checkout(n: int, phone: str, at: datetime, total: str = "129.95") -> dict[str, Any]:
    return {
        "id": f"chk-{n}",
        "phone": phone,
        "type": "checkout_started",
        "occurred_at": at.isoformat(),
        "properties": {
            "checkout_id": f"c{n}",
            "total_price": total,
            "currency": "USD",
            "first_name": "Ana",
            "abandoned_checkout_url": CART,
            "line_items": [{"title": "Trail runner", "quantity": 1, "price": total, "image": IMAGE}],
        },
    }


def order(n: int, phone: str, at: datetime) -> dict[str, Any]:
    return {
        "id": f"ord-{n}",
        "phone": phone,
        "type": "order_placed",
        "occurred_at": at.isoformat(),
        "properties": {
            "order_id": f"o{n}",
            "order_name": f"#{1000 + n}",
            "total_price": "129.95",
            "currency": "USD",
        },
    }


async def send_events(app: Any, *events: dict[str, Any]) -> dict[str, Any]:
    response = await app.post(
        "/api/events", json=list(events), headers={"Authorization": f"Bearer {EVENTS_TOKEN}"}
    )
    assert response.status == 200, await response.text()
    answer: dict[str, Any] = await response.json()
    return answer


async def join(app: Any, *numbers: str) -> None:
    for number in numbers:
        await Phone(app, number, token=TOKEN, public_url=PUBLIC_URL).text("JOIN")


async def run_until(worker: Any, clock: Clock, until: datetime) -> None:
    """The worker's rounds, a minute apart, until the clock reaches `until`."""
    while clock.at < until:
        clock.advance(minutes=1)
        for _ in range(3):
            await worker.tick()


def reminders(api: FakeTwilio) -> list[dict[str, Any]]:
    return [m for m in api.accepted() if "still in your cart" in m["body"]]


async def test_an_abandoned_cart_over_100_gets_one_mms_an_hour_later_with_its_tracked_link(
    app: Any, api: FakeTwilio, make_worker: WorkerFactory
) -> None:
    await join(app, ANA)
    clock = Clock(datetime.now(UTC))
    worker = make_worker(clock)
    await send_events(app, checkout(1, ANA, clock.at))
    await run_until(worker, clock, clock.at + timedelta(minutes=58))
    assert reminders(api) == []
    await run_until(worker, clock, clock.at + timedelta(minutes=4))
    [reminder] = reminders(api)
    assert reminder["to"] == ANA and "COMEBACK15" in reminder["body"] and "Trail runner" in reminder["body"]
    assert reminder["media_urls"] == [IMAGE]
    [link] = [w for w in reminder["body"].split() if w.startswith(f"{PUBLIC_URL}/l/")]
    tap = await app.get(
        urlsplit(link).path, allow_redirects=False, headers={"User-Agent": "Mozilla/5.0 (iPhone)"}
    )
    assert tap.headers["Location"].startswith(
        CART + "&utm_source=sms&utm_medium=flow&utm_campaign=abandoned_checkout"
    )


async def test_a_small_cart_gets_free_shipping_as_plain_sms(
    app: Any, api: FakeTwilio, make_worker: WorkerFactory
) -> None:
    await join(app, ANA)
    clock = Clock(datetime.now(UTC))
    await send_events(app, checkout(1, ANA, clock.at, total="40.00"))
    await run_until(make_worker(clock), clock, clock.at + timedelta(minutes=62))
    [reminder] = reminders(api)
    assert "shipping is on us" in reminder["body"] and reminder["media_urls"] == []


async def test_an_order_within_the_hour_ends_the_reminder_and_is_confirmed_at_once(
    app: Any, api: FakeTwilio, make_worker: WorkerFactory
) -> None:
    await join(app, ANA)
    clock = Clock(datetime.now(UTC))
    worker = make_worker(clock)
    await send_events(app, checkout(1, ANA, clock.at))
    await run_until(worker, clock, clock.at + timedelta(minutes=20))
    await send_events(app, order(1, ANA, clock.at))
    await run_until(worker, clock, clock.at + timedelta(hours=2))
    assert reminders(api) == []
    [confirmation] = [m for m in api.accepted() if "thanks for your order" in m["body"]]
    assert "#1001" in confirmation["body"] and "$129.95" in confirmation["body"]


async def test_an_order_whose_webhook_came_before_the_checkouts_sends_no_reminder(
    app: Any, api: FakeTwilio, make_worker: WorkerFactory
) -> None:
    await join(app, ANA)
    clock = Clock(datetime.now(UTC))
    await send_events(app, order(1, ANA, clock.at + timedelta(minutes=10)))
    await send_events(app, checkout(1, ANA, clock.at))  # late: Shopify retried it
    await run_until(make_worker(clock), clock, clock.at + timedelta(hours=2))
    assert reminders(api) == []


async def test_a_second_checkout_within_48_hours_gets_no_second_reminder(
    app: Any, api: FakeTwilio, make_worker: WorkerFactory
) -> None:
    await join(app, ANA)
    clock = Clock(datetime.now(UTC))
    worker = make_worker(clock)
    await send_events(app, checkout(1, ANA, clock.at))
    await run_until(worker, clock, clock.at + timedelta(hours=2))
    await send_events(app, checkout(2, ANA, clock.at))
    await run_until(worker, clock, clock.at + timedelta(hours=2))
    assert len(reminders(api)) == 1
    async with services_of(app).engine.begin() as conn:  # 49 hours pass (the server keeps real time)
        await conn.execute(update(flow_runs).values(started_at=datetime.now(UTC) - timedelta(hours=49)))
    await send_events(app, checkout(3, ANA, clock.at))
    await run_until(worker, clock, clock.at + timedelta(hours=2))
    assert len(reminders(api)) == 2  # more than 48 hours after the first


async def test_a_customer_who_never_subscribed_or_stopped_gets_nothing(
    app: Any, api: FakeTwilio, make_worker: WorkerFactory
) -> None:
    await join(app, BEN)
    await Phone(app, BEN, token=TOKEN, public_url=PUBLIC_URL).text("STOP")
    clock = Clock(datetime.now(UTC))
    answer = await send_events(
        app, checkout(1, ANA, clock.at), checkout(2, BEN, clock.at), order(3, ANA, clock.at)
    )
    assert answer["customers"] == 2 and answer["stored"] == 3
    await run_until(make_worker(clock), clock, clock.at + timedelta(hours=2))
    assert [m for m in api.accepted() if m["to"] == ANA] == []
    assert reminders(api) == []


async def test_an_order_after_tapping_the_reminder_is_credited_to_the_reminder(
    app: Any, api: FakeTwilio, make_worker: WorkerFactory
) -> None:
    await join(app, ANA)
    clock = Clock(datetime.now(UTC))
    worker = make_worker(clock)
    await send_events(app, checkout(1, ANA, clock.at))
    await run_until(worker, clock, clock.at + timedelta(minutes=62))
    [reminder] = reminders(api)
    [link] = [w for w in reminder["body"].split() if w.startswith(f"{PUBLIC_URL}/l/")]
    await app.get(urlsplit(link).path, allow_redirects=False, headers={"User-Agent": "Mozilla/5.0 (iPhone)"})
    writer = services_of(app).services.writer
    assert writer is not None
    await writer.probe()  # the click is committed
    answer = await send_events(app, order(1, ANA, datetime.now(UTC) + timedelta(seconds=1)))
    assert answer["attributed"] == 1
    async with services_of(app).engine.connect() as conn:
        [credit] = (await conn.execute(select(conversions))).all()
    assert (credit.via, credit.origin, credit.origin_name) == ("click", "flow", "abandoned_checkout")


async def test_a_shipment_is_announced_with_its_tracking_link(
    app: Any, api: FakeTwilio, make_worker: WorkerFactory
) -> None:
    await join(app, ANA)
    clock = Clock(datetime.now(UTC))
    shipped = {
        **order(1, ANA, clock.at),
        "id": "ful-1",
        "type": "order_fulfilled",
        "properties": {
            "order_id": "o1",
            "order_name": "#1001",
            "tracking_url": "https://www.ups.com/track?n=1Z",
        },
    }
    await send_events(app, shipped)
    await run_until(make_worker(clock), clock, clock.at + timedelta(minutes=2))
    [note] = [m for m in api.accepted() if "on its way" in m["body"]]
    assert f"{PUBLIC_URL}/l/" in note["body"]


async def test_the_flow_report_shows_what_the_reminder_earned_through_the_api_and_the_cli(
    app: Any, api: FakeTwilio, make_worker: WorkerFactory
) -> None:
    await test_an_order_after_tapping_the_reminder_is_credited_to_the_reminder(app, api, make_worker)
    response = await app.get("/api/flows/abandoned_checkout/report", headers=ADMIN)
    assert response.status == 200
    found = await response.json()
    assert (found["recipients"], found["unique_clicks"], found["conversions"]) == (1, 1, 1)
    assert found["conversion_rate"] == 1.0 and found["revenue"] == {"USD": "129.95"}
    assert found["revenue_per_recipient"] == {"USD": "129.95"}
    assert found["benchmark"] == {"band": [0.018, 0.022], "verdict": "above"}
    assert found["conversions_by_opt_in_source"] == {"JOIN": 1}
    assert (await app.get("/api/flows/nothing/report", headers=ADMIN)).status == 404
    printed = await smsbot(services_of(app).settings, "flow", "report", "abandoned_checkout")
    assert "conversions      1" in printed and "USD                          129.95" in printed
