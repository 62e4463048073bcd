"""Campaigns end to end: sent with `smsbot campaign`, drained by the worker through the local Twilio
API, on the real database and Redis."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update

from bot.cli import main
from bot.domain.store_events import from_api
from bot.pipeline.store_events import EventBatch
from bot.settings import Settings
from bot.store import activity
from bot.store.schema import conversions, messages
from tests.conftest import (
    ACCOUNT_SID,
    PUBLIC_URL,
    TOKEN,
    ClientFactory,
    Phone,
    services_of,
)
from tests.fake_twilio import FakeTwilio
from tests.worker.conftest import ALWAYS_OPEN, Clock, WorkerFactory, sending_app

HELLO = """
campaigns:
  hello:
    segment: all_subscribers
    message: 'Acme: winter sale {{ link("https://acme.example/winter") }} Reply STOP to opt out'
    smart_sending: false
"""
ANA, BEN, CLEO = "+14155550101", "+14155550102", "+14155550103"


@pytest.fixture
def program_dir(keywords_copy: Path) -> Path:
    (keywords_copy / "test_campaigns.yaml").write_text(HELLO)
    return keywords_copy


@pytest.fixture
async def app(make_client: ClientFactory, twilio_api: tuple[FakeTwilio, str], program_dir: Path) -> Any:
    return await sending_app(make_client, twilio_api, 100.0, keywords_dir=program_dir)


async def smsbot(settings: Settings, *args: str) -> str:
    """Run the smsbot command against the test's database and program; its output."""
    env = {
        "DATABASE_URL": settings.database_url,
        "SMSBOT_KEYWORDS_DIR": str(settings.keywords_dir),
        "SMSBOT_PUBLIC_URL": PUBLIC_URL,
        "SMSBOT_DATA_DIR": str(settings.data_dir),
    }
    result = await asyncio.to_thread(CliRunner().invoke, main, list(args), env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


async def failing(settings: Settings, *args: str) -> str:
    env = {"DATABASE_URL": settings.database_url, "SMSBOT_KEYWORDS_DIR": str(settings.keywords_dir)}
    result = await asyncio.to_thread(CliRunner().invoke, main, list(args), env=env, catch_exceptions=False)
    assert result.exit_code != 0, result.output
    return result.output


async def subscribe(app: Any, *numbers: str) -> None:
    for number in numbers:
        await Phone(app, number, token=TOKEN, public_url=PUBLIC_URL).text("JOIN")


def campaign_texts(api: FakeTwilio) -> list[dict[str, Any]]:
    return [m for m in api.accepted() if "winter sale" in m["body"]]


async def ordered(app: Any, phone: str, total: str) -> None:
    """The store says `phone` placed an order just now (as POST /api/events would)."""
    writer = services_of(app).services.writer
    assert writer is not None
    properties = {"order_id": "o1", "total_price": total, "currency": "USD"}
    order = {
        "id": "o1",
        "phone": phone,
        "type": "order_placed",
        "occurred_at": datetime.now(UTC).isoformat(),
        "properties": properties,
    }
    await writer.events(EventBatch((from_api(order, "US"),)))


async def drain(worker: Any, clock: Clock, rounds: int = 10) -> None:
    for _ in range(rounds):
        clock.advance(seconds=1)
        await worker.tick()


async def test_send_fixes_the_audience_and_each_subscriber_gets_one_tracked_link(
    app: Any, api: FakeTwilio, make_worker: WorkerFactory
) -> None:
    settings = services_of(app).settings
    await subscribe(app, ANA, BEN)
    assert "2 recipients" in await smsbot(settings, "campaign", "send", "hello", "--yes")
    await subscribe(app, CLEO)  # joined after sending started: not in this campaign
    clock = Clock(datetime.now(UTC))
    await drain(make_worker(clock), clock)
    texts = campaign_texts(api)
    assert sorted(m["to"] for m in texts) == [ANA, BEN]
    links = [word for m in texts for word in m["body"].split() if word.startswith(f"{PUBLIC_URL}/l/")]
    assert len(set(links)) == 2  # one short link per recipient
    status = json.loads(await smsbot(settings, "campaign", "status", "hello", "--json"))
    assert status["audience"] == 2 and status["status"] == "finished"
    assert status["recipients"] == {"queued": 2}  # handed over; the carrier has not reported yet
    assert status["clicked"] == 0


async def test_a_campaign_is_sent_once_unless_sent_again_on_purpose(
    app: Any, api: FakeTwilio, make_worker: WorkerFactory
) -> None:
    settings = services_of(app).settings
    await subscribe(app, ANA)
    await smsbot(settings, "campaign", "send", "hello", "--yes")
    assert "already sent" in await failing(settings, "campaign", "send", "hello", "--yes")
    assert "round 2" in await smsbot(settings, "campaign", "send", "hello", "--yes", "--again")


async def test_stop_in_the_middle_of_a_campaign_sends_nothing_after_the_stop(
    app: Any, api: FakeTwilio, make_worker: WorkerFactory
) -> None:
    settings = services_of(app).settings
    await subscribe(app, ANA, BEN)
    await smsbot(settings, "campaign", "send", "hello", "--yes")
    clock = Clock(datetime.now(UTC))
    worker = make_worker(clock, send_rate=0.001)  # the rate holds every message back
    await worker.queue_campaigns()  # both messages wait in the outbox
    await Phone(app, BEN, token=TOKEN, public_url=PUBLIC_URL).text("STOP")
    await drain(make_worker(clock), clock)
    assert [m["to"] for m in campaign_texts(api)] == [ANA]
    status = json.loads(await smsbot(settings, "campaign", "status", "hello", "--json"))
    assert status["recipients"] == {"queued": 1, "skipped: opted_out": 1}


async def test_pause_holds_what_is_not_yet_sent_and_resume_sends_it_once(
    app: Any, api: FakeTwilio, make_worker: WorkerFactory
) -> None:
    settings = services_of(app).settings
    await subscribe(app, ANA, BEN)
    await smsbot(settings, "campaign", "send", "hello", "--yes")
    clock = Clock(datetime.now(UTC))
    await make_worker(clock, send_rate=0.001).queue_campaigns()
    await smsbot(settings, "campaign", "pause", "hello")
    await drain(make_worker(clock), clock, rounds=3)
    assert campaign_texts(api) == []
    await smsbot(settings, "campaign", "resume", "hello")
    await drain(make_worker(clock), clock)
    assert sorted(m["to"] for m in campaign_texts(api)) == [ANA, BEN]


async def test_cancel_sends_nothing_more(app: Any, api: FakeTwilio, make_worker: WorkerFactory) -> None:
    settings = services_of(app).settings
    await subscribe(app, ANA, BEN)
    await smsbot(settings, "campaign", "send", "hello", "--yes")
    await smsbot(settings, "campaign", "cancel", "hello")
    clock = Clock(datetime.now(UTC))
    await drain(make_worker(clock), clock)
    assert campaign_texts(api) == []
    assert json.loads(await smsbot(settings, "campaign", "status", "hello", "--json"))["recipients"] == {
        "skipped: cancelled": 2
    }


async def test_editing_the_yaml_after_sending_started_changes_nothing_already_decided(
    app: Any, api: FakeTwilio, make_worker: WorkerFactory, program_dir: Path
) -> None:
    settings = services_of(app).settings
    await subscribe(app, ANA)
    await smsbot(settings, "campaign", "send", "hello", "--yes")
    (program_dir / "test_campaigns.yaml").write_text(HELLO.replace("winter sale", "spring sale"))
    await services_of(app).watcher.reload()
    clock = Clock(datetime.now(UTC))
    await drain(make_worker(clock), clock)
    [text] = campaign_texts(api)
    assert text["to"] == ANA


async def test_a_schedule_long_past_does_not_send_by_itself(
    app: Any, api: FakeTwilio, make_worker: WorkerFactory, program_dir: Path
) -> None:
    await subscribe(app, ANA)
    brand = services_of(app).program.current.info.zone  # send_at is the brand's wall clock
    past = (datetime.now(brand) - timedelta(hours=2)).strftime("%Y-%m-%d %H:%M")
    soon = (datetime.now(brand) - timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M")
    scheduled = (
        HELLO
        + f'    send_at: "{past}"\n'
        + HELLO.replace("campaigns:\n", "")
        .replace("hello:", "just_now:")
        .replace("winter sale", "winter sale now")
        + f'    send_at: "{soon}"\n'
    )
    (program_dir / "test_campaigns.yaml").write_text(scheduled)
    await services_of(app).watcher.reload()
    clock = Clock(datetime.now(UTC))
    await drain(make_worker(clock), clock, rounds=3)
    assert [m["body"].split(" http")[0] for m in campaign_texts(api)] == ["Acme: winter sale now"]


async def test_preview_shows_recipients_and_the_message_and_sends_nothing(
    app: Any, api: FakeTwilio, make_worker: WorkerFactory
) -> None:
    settings = services_of(app).settings
    await subscribe(app, ANA, BEN)
    found = json.loads(await smsbot(settings, "campaign", "preview", "hello", "--json"))
    assert found["recipients"] == 2 and found["by_language"] == {"en": 2} and found["by_country"] == {"US": 2}
    assert found["variants"] == {"en": "GSM-7, 1 segment"} and found["billed_segments"] == 2
    assert [s["phone"] for s in found["samples"]] == ["+14*******01", "+14*******02"]
    assert all(f"{PUBLIC_URL}/l/xxxxxxxx" in s["message"] for s in found["samples"])
    clock = Clock(datetime.now(UTC))
    await drain(make_worker(clock), clock, rounds=2)
    assert campaign_texts(api) == []


async def test_check_warns_that_an_edit_after_sending_changes_nothing(app: Any, program_dir: Path) -> None:
    settings = services_of(app).settings
    await subscribe(app, ANA)
    await smsbot(settings, "campaign", "send", "hello", "--yes")
    assert "changes nothing" not in await smsbot(settings, "check")
    (program_dir / "test_campaigns.yaml").write_text(HELLO.replace("winter sale", "spring sale"))
    said = await smsbot(settings, "check")
    assert "test_campaigns.yaml:3: warning: campaign hello was sent on" in said
    assert "smsbot campaign send hello --again" in said


async def test_the_report_counts_deliveries_failures_people_who_tapped_and_previews_apart(
    app: Any, api: FakeTwilio, make_worker: WorkerFactory
) -> None:
    from urllib.parse import urlsplit

    settings = services_of(app).settings
    await subscribe(app, ANA, BEN, CLEO)
    await smsbot(settings, "campaign", "send", "hello", "--yes")
    clock = Clock(datetime.now(UTC))
    await drain(make_worker(clock), clock)
    texts = {m["to"]: m for m in campaign_texts(api)}
    carrier = Phone(app, ANA, token=TOKEN, public_url=PUBLIC_URL)
    for number, status, code in (
        (ANA, "delivered", None),
        (BEN, "delivered", None),
        (CLEO, "undelivered", "30003"),
    ):
        callback = urlsplit(texts[number]["status_callback"])
        form = {"MessageSid": texts[number]["sid"], "MessageStatus": status, "AccountSid": ACCOUNT_SID}
        if code:
            form["ErrorCode"] = code
        assert (await carrier.post(form, f"{callback.path}?{callback.query}")).status == 200
    link = next(w for w in texts[ANA]["body"].split() if w.startswith(PUBLIC_URL))
    path = urlsplit(link).path
    person = {"User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148"}
    for headers in (person, person, {"User-Agent": "facebookexternalhit/1.1 Facebot Twitterbot/1.0"}):
        assert (await app.get(path, headers=headers, allow_redirects=False)).status == 302
    async with services_of(app).engine.begin() as conn:  # the worker's clock ran ahead: sent a minute ago
        await conn.execute(update(messages).values(handed_at=datetime.now(UTC) - timedelta(minutes=1)))
    await Phone(app, BEN, token=TOKEN, public_url=PUBLIC_URL).text("STOP")
    await ordered(app, ANA, "89.50")  # after tapping: the campaign earned it
    report = json.loads(await smsbot(settings, "campaign", "report", "hello", "--json"))
    assert report == {
        "name": "hello",
        "round": 1,
        "recipients": 3,
        "sent": 3,
        "delivered": 2,
        "failed": {"30003": 1},
        "unique_clicks": 1,
        "total_clicks": 2,
        "link_previews": 1,
        "click_rate": 0.5,  # unique clickers / delivered
        "opt_outs_24h": 1,
        "opt_out_rate": 0.5,
        "conversions": 1,
        "conversion_rate": 0.3333,  # conversions / recipients sent to
        "revenue": {"USD": "89.50"},
        "revenue_per_recipient": {"USD": "29.83"},
        "conversions_by_opt_in_source": {"JOIN": 1},
        "benchmark": {"band": [0.012, 0.022], "verdict": "above"},  # Klaviyo's campaign band
    }
    status = json.loads(await smsbot(settings, "campaign", "status", "hello", "--json"))
    assert status["recipients"] == {"delivered": 2, "undelivered: 30003": 1} and status["clicked"] == 1


async def sent_to_ana(app: Any, make_worker: WorkerFactory) -> None:
    """The hello campaign handed to Ana by a real worker, a minute ago (its clock ran ahead)."""
    await subscribe(app, ANA)
    await smsbot(services_of(app).settings, "campaign", "send", "hello", "--yes")
    clock = Clock(datetime.now(UTC))
    await drain(make_worker(clock), clock)
    async with services_of(app).engine.begin() as conn:
        await conn.execute(update(messages).values(handed_at=datetime.now(UTC) - timedelta(minutes=1)))


async def cancelled(app: Any, order_id: str) -> None:
    """The store says the order was cancelled just now (as POST /api/events would)."""
    writer = services_of(app).services.writer
    assert writer is not None
    cancel = {
        "id": f"{order_id}-cancelled",
        "phone": ANA,
        "type": "order_cancelled",
        "occurred_at": datetime.now(UTC).isoformat(),
        "properties": {"order_id": order_id},
    }
    await writer.events(EventBatch((from_api(cancel, "US"),)))


async def refunded(app: Any, order_id: str, amount: str | None) -> None:
    """The store says the order was refunded just now: `amount` of it, or all of it (None)."""
    writer = services_of(app).services.writer
    assert writer is not None
    properties = {"order_id": order_id, **({"total_price": amount, "currency": "USD"} if amount else {})}
    refund = {
        "id": f"{order_id}-refund-{amount}",
        "phone": ANA,
        "type": "order_refunded",
        "occurred_at": datetime.now(UTC).isoformat(),
        "properties": properties,
    }
    await writer.events(EventBatch((from_api(refund, "US"),)))


async def hello_report(app: Any) -> dict[str, Any]:
    return dict(json.loads(await smsbot(services_of(app).settings, "campaign", "report", "hello", "--json")))


async def test_a_cancelled_order_takes_back_its_credit_from_the_report_and_the_counts(
    app: Any, api: FakeTwilio, make_worker: WorkerFactory
) -> None:
    await sent_to_ana(app, make_worker)
    await ordered(app, ANA, "89.50")  # received the campaign, then ordered: credited
    before = await hello_report(app)
    assert (before["conversions"], before["revenue"]) == (1, {"USD": "89.50"})
    await cancelled(app, "o1")
    after = await hello_report(app)
    assert (after["conversions"], after["revenue"], after["conversion_rate"]) == (0, {}, 0.0)
    async with services_of(app).engine.begin() as conn:
        kept = (await conn.execute(select(conversions.c.cancelled_at))).scalars().all()
        counted = await conn.run_sync(activity.totals, ("conversions", "earned"))
    assert len(kept) == 1 and kept[0] is not None  # the history stays, marked
    assert not any(n for by_label in counted.values() for n, _ in by_label.values())  # counts net to 0


async def test_an_order_whose_cancellation_came_first_is_never_credited(
    app: Any, api: FakeTwilio, make_worker: WorkerFactory
) -> None:
    await sent_to_ana(app, make_worker)
    await cancelled(app, "o1")
    await ordered(app, ANA, "89.50")  # the store's webhooks came out of order
    report = await hello_report(app)
    assert (report["conversions"], report["revenue"]) == (0, {})


async def test_a_refund_of_part_of_an_order_keeps_its_credit_and_a_full_one_takes_it_back(
    app: Any, api: FakeTwilio, make_worker: WorkerFactory
) -> None:
    await sent_to_ana(app, make_worker)
    await ordered(app, ANA, "89.50")
    await refunded(app, "o1", "20.00")  # one item of three sent back
    assert (await hello_report(app))["revenue"] == {"USD": "89.50"}
    await refunded(app, "o1", "89.50")
    report = await hello_report(app)
    assert (report["conversions"], report["revenue"]) == (0, {})


async def test_check_warns_of_a_campaign_whose_segment_reaches_nobody(app: Any) -> None:
    settings = services_of(app).settings
    await subscribe(app, ANA)  # a database with one subscriber, in no VIP segment
    said = await smsbot(settings, "check")
    lines = (settings.keywords_dir / "campaigns.yaml").read_text().splitlines()
    line = lines.index("  shoe_sale:") + 1
    warning = "warning: campaign shoe_sale: segment engaged_shoe_fans has no subscribed member"
    assert f"campaigns.yaml:{line}: {warning}" in said
    assert "campaign hello:" not in said  # all_subscribers reaches Ana


async def test_a_campaign_spread_over_an_hour_gives_each_recipient_a_later_time(
    app: Any, program_dir: Path
) -> None:
    from sqlalchemy import select

    from bot.store.schema import campaign_recipients

    (program_dir / "test_campaigns.yaml").write_text(HELLO + "    spread_over_minutes: 60\n")
    await services_of(app).watcher.reload()
    settings = services_of(app).settings
    await subscribe(app, ANA, BEN, CLEO)
    await smsbot(settings, "campaign", "send", "hello", "--yes")
    async with services_of(app).engine.connect() as conn:
        times = list(
            await conn.scalars(select(campaign_recipients.c.send_after).order_by(campaign_recipients.c.id))
        )
    assert [round((t - times[0]).total_seconds() / 60) for t in times] == [0, 20, 40]


async def test_quiet_hours_hold_one_zone_without_holding_up_the_others(
    app: Any, api: FakeTwilio, make_worker: WorkerFactory
) -> None:
    from zoneinfo import ZoneInfo

    from bot.domain.quiet_hours import QuietHours, Window

    london = datetime.now(ZoneInfo("Europe/London"))
    night = (london + timedelta(hours=12)).time().replace(second=0, microsecond=0)
    later = (datetime.combine(london.date(), night) + timedelta(minutes=30)).time()
    # A window opens before it closes: when that half hour crosses midnight (it is 11:30 to noon in
    # London), one from 1 to 2 in the morning is as closed.
    closed_in_london = Window(night, later) if night < later else Window(time(1), time(2))
    quiet = QuietHours(default=ALWAYS_OPEN.default, per_country={"GB": closed_in_london})
    settings = services_of(app).settings
    await subscribe(app, "+447700900123", ANA)  # London first: its message is queued first
    await smsbot(settings, "campaign", "send", "hello", "--yes")
    clock = Clock(datetime.now(UTC))
    worker = make_worker(clock, quiet_hours=quiet, send_rate=0.1)  # room for one campaign message
    worker.batch = 1
    for _ in range(4):
        clock.advance(seconds=1)
        await worker.tick()
    assert [m["to"] for m in campaign_texts(api)] == [ANA]  # London's waits for its window, Ana's went
