"""What reaches people's phones, whatever the path: the eight ways it went wrong before the gate,
each driven as a shopper, a store and a marketer would, with `smsbot worker` as a real process and
the local stand-in for Twilio's REST API saying what arrived."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.dashboard.signup import COOKIE
from bot.store.rows import new_subscriber
from bot.store.schema import campaign_recipients, messages, subscribers
from tests.conftest import ACCOUNT_SID, ADMIN_TOKEN, services_of
from tests.worker.carrier import Scene, Stage
from tests.worker.test_campaigns import smsbot

ANA, BEN = "+14155550101", "+14155550102"
UK = "+447700900123"  # a shopper in London
CART = "https://acme.example/cart/recover?key=abc"


def short_waits(keywords: Path, wait: str = "2s") -> None:
    """The shipped automations, the cart reminder's hour made `wait`."""
    path = keywords / "automations.yaml"
    path.write_text(path.read_text().replace("- wait: 1h", f"- wait: {wait}"))


def checkout(n: int, phone: str, at: datetime, **properties: Any) -> dict[str, Any]:
    return {
        "id": f"chk-{n}",
        "phone": phone,
        "type": "checkout_started",
        "occurred_at": at.isoformat(),
        "properties": {
            "checkout_id": f"c{n}",
            "currency": "USD",
            "abandoned_checkout_url": CART,
            **properties,
        },
    }


def order(n: int, phone: str, at: datetime, kind: str = "order_placed") -> dict[str, Any]:
    return {
        "id": f"{kind}-{n}",
        "phone": phone,
        "type": kind,
        "occurred_at": at.isoformat(),
        "properties": {
            "order_id": f"o{n}",
            "order_name": f"#{2400 + n}",
            "total_price": "40",
            "currency": "USD",
        },
    }


async def subscribed(scene: Scene, *numbers: str) -> None:
    """Subscribers stored as a list import would leave them (no welcome flow)."""
    now = datetime.now(UTC)
    async with services_of(scene.app).engine.begin() as conn:
        await conn.execute(
            subscribers.insert(),
            [{**new_subscriber(n, now), "status": "subscribed", "subscribed_at": now} for n in numbers],
        )


# -- 1. the sign-up page ---------------------------------------------------------------------------


async def test_the_sign_up_page_texts_the_confirmation_to_a_pending_subscriber(
    keywords_copy: Path, stage: Stage
) -> None:
    async with stage() as s:
        page = await s.app.get("/join/spring")
        token = re.search(r'name="token" value="([^"]+)"', await page.text())
        assert token is not None
        form = {"token": token.group(1), "phone": "(415) 555-0101", "consent": "yes"}
        # The page's cookie is Secure behind https (PUBLIC_URL): the browser would send it back.
        cookie = {"Cookie": f"{COOKIE}={token.group(1)}"}
        assert (await s.app.post("/join/spring", data=form, headers=cookie)).status == 200
        await s.until(lambda: bool(s.reached(ANA)))
        [prompt] = s.reached(ANA)
        assert "Reply Y to confirm" in prompt

        async def recorded() -> bool:  # the worker records the carrier's answer just after it came
            return all(row.sid is not None for row in await s.rows(ANA))

        await s.until(recorded)
        [row] = await s.rows(ANA)
        assert row.purpose == "consent" and row.sid == s.api.accepted()[0]["sid"]


# -- 2. every order its confirmation ----------------------------------------------------------------


async def test_two_orders_in_one_batch_and_a_third_a_second_later_each_get_their_confirmation(
    keywords_copy: Path, stage: Stage
) -> None:
    async with stage() as s:
        await subscribed(s, ANA)
        now = datetime.now(UTC)
        await s.events(order(1, ANA, now), order(2, ANA, now))
        await asyncio.sleep(1)
        await s.events(order(3, ANA, datetime.now(UTC)), order(3, ANA, datetime.now(UTC)))  # and a retry
        await s.events(order(1, ANA, now, "order_fulfilled"), order(2, ANA, now, "order_fulfilled"))
        await s.until(lambda: len(s.reached(ANA, "thanks for your order")) >= 3)
        await s.until(lambda: len(s.reached(ANA, "on its way")) >= 2)
        await asyncio.sleep(1.5)  # anything doubled would have arrived by now
        thanks = s.reached(ANA, "thanks for your order")
        assert sorted(re.findall(r"#\d+", " ".join(thanks))) == ["#2401", "#2402", "#2403"]
        assert len(s.reached(ANA, "on its way")) == 2


# -- 3. no cart reminder after the order ------------------------------------------------------------


def closed_for(seconds: int) -> str:
    """Quiet hours in Great Britain that open `seconds` from now (London time), for an hour."""
    local = datetime.now(ZoneInfo("Europe/London"))
    if local.hour == 23 and local.minute >= 58:
        pytest.skip("the window cannot open before midnight in London")
    opens = (local + timedelta(seconds=seconds)).time().replace(microsecond=0)
    closes = min(23 * 3600 + 59 * 60, opens.hour * 3600 + opens.minute * 60 + opens.second + 3600)
    end = f"{closes // 3600:02d}:{closes % 3600 // 60:02d}:{closes % 60:02d}"
    return f'{{start: "00:00", end: "23:59:59", countries: {{GB: {{start: "{opens}", end: "{end}"}}}}}}'


async def test_a_reminder_held_by_quiet_hours_is_never_sent_after_the_order(
    keywords_copy: Path, stage: Stage
) -> None:
    short_waits(keywords_copy, "1s")
    async with stage(quiet=closed_for(9)) as s:
        await subscribed(s, UK)
        lines = [{"title": "Trail runner", "quantity": 1, "price": "50"}]
        await s.events(checkout(1, UK, datetime.now(UTC), total_price="50", line_items=lines))

        async def held() -> bool:
            return any(r.status == "pending" and "cart" in r.body for r in await s.rows(UK))

        await s.until(held)  # the run has ended its steps; its reminder waits for the window
        await s.events(order(1, UK, datetime.now(UTC)))
        [reminder] = [r for r in await s.rows(UK) if "cart" in r.body]
        assert (reminder.status, reminder.reason) == ("cancelled", "exit_condition")
        await s.until(lambda: bool(s.reached(UK, "thanks for your order")))
        await asyncio.sleep(max(0.0, (reminder.send_after - datetime.now(UTC)).total_seconds()) + 2)
        assert s.reached(UK, "cart") == []


# -- 4. history does not text the list --------------------------------------------------------------


async def test_importing_history_starts_no_automation_and_says_so(keywords_copy: Path, stage: Stage) -> None:
    async with stage() as s:
        await subscribed(s, ANA, BEN)
        now = datetime.now(UTC)
        history = keywords_copy.parent / "history.jsonl"
        old = [order(1, ANA, now - timedelta(days=45)), checkout(2, BEN, now - timedelta(days=40))]
        history.write_text("\n".join(json.dumps(e) for e in old))
        settings = services_of(s.app).settings
        said = await smsbot(settings, "events", "import", str(history))
        # the order would start its confirmation and a win-back, the checkout its reminder
        assert "2 stored" in said and "3 automations not started: 3 history" in said
        asked = keywords_copy.parent / "asked.jsonl"
        asked.write_text(
            "\n".join(
                json.dumps(e)
                for e in [
                    order(3, ANA, now - timedelta(days=45)),
                    checkout(4, BEN, now - timedelta(days=40), total_price="20"),
                    order(5, BEN, now - timedelta(minutes=5)),
                ]
            )
        )
        said = await smsbot(settings, "events", "import", str(asked), "--run-automations")
        # BEN's order: its confirmation and a win-back; ANA's 45-day-old order: only a win-back, due
        # 60 days after it was placed (15 days from now); the rest is too old to start anything
        assert "3 automations started" in said and "2 stale" in said
        await s.until(lambda: bool(s.reached(BEN, "#2405")))
        await asyncio.sleep(2)
        assert s.reached(ANA) == [] and s.reached(BEN, "COMEBACK15") == s.reached(BEN, "cart") == []


# -- 5. a template never fails silently ----------------------------------------------------------------


async def test_a_checkout_without_line_items_gets_the_reminder_with_its_defaults(
    keywords_copy: Path, stage: Stage
) -> None:
    short_waits(keywords_copy, "1s")
    async with stage() as s:
        await subscribed(s, ANA)
        await s.events(checkout(1, ANA, datetime.now(UTC), total_price="30"))
        await s.until(lambda: bool(s.reached(ANA, "cart")))
        [reminder] = s.reached(ANA, "cart")
        assert "your order is still in your cart" in reminder and "Hi there" in reminder


async def test_a_message_that_cannot_be_written_is_stored_failed_with_the_reason(
    keywords_copy: Path, stage: Stage
) -> None:
    (keywords_copy / "automations.yaml").write_text(
        """
flows:
  shipped:
    trigger: {event: order_fulfilled}
    transactional: true
    steps:
      - send: "Acme: your {{ event.total_price | currency(event.currency) }} order is on its way"
      - send: "Acme: it ships today"
"""
    )
    async with stage() as s:
        await subscribed(s, ANA)
        shipment = order(1, ANA, datetime.now(UTC), "order_fulfilled")
        shipment["properties"] = {"order_id": "o1"}  # no total: the first message cannot be written
        await s.events(shipment)
        await s.until(lambda: bool(s.reached(ANA, "it ships today")))
        [failed] = [r for r in await s.rows(ANA) if r.status == "failed"]
        assert failed.reason.startswith("template: ") and failed.purpose == "transactional"
        assert s.reached(ANA, "on its way") == []
        assert "could not be rendered" in s.log.read_text()


# -- 6, 7, 8. campaigns -----------------------------------------------------------------------------

TWO_CAMPAIGNS = """
campaigns:
  c1:
    segment: all_subscribers
    message: 'Acme: first sale. Reply STOP to opt out'
    smart_sending: 24
  c2:
    segment: all_subscribers
    message: 'Acme: second sale. Reply STOP to opt out'
    smart_sending: 24
"""


async def test_smart_sending_lets_one_of_two_campaigns_through_a_second_apart(
    keywords_copy: Path, stage: Stage
) -> None:
    (keywords_copy / "campaigns.yaml").write_text(TWO_CAMPAIGNS)
    numbers = [f"+1415555{n:04d}" for n in range(20)]
    async with stage(rate=5) as s:
        await subscribed(s, *numbers)
        assert (await s.admin("/api/campaigns/c1/send")).status == 201
        await asyncio.sleep(1)
        assert (await s.admin("/api/campaigns/c2/send")).status == 201

        async def both_finished() -> bool:
            return {await s.campaign_status("c1"), await s.campaign_status("c2")} == {"finished"}

        await s.until(both_finished, 30)
        for number in numbers:
            assert len(s.reached(number, "sale")) == 1, s.reached(number)
        async with services_of(s.app).engine.connect() as conn:
            skipped = await conn.scalars(
                select(campaign_recipients.c.reason).where(campaign_recipients.c.status == "skipped")
            )
            assert list(skipped) == ["smart_sending"] * len(numbers)  # said in the campaign's report


async def test_retrying_failed_recipients_sends_them_the_campaign_again(
    keywords_copy: Path, stage: Stage
) -> None:
    (keywords_copy / "campaigns.yaml").write_text(TWO_CAMPAIGNS)
    async with stage() as s:
        await subscribed(s, ANA, BEN, "+14155550103")
        assert (await s.admin("/api/campaigns/c1/send")).status == 201
        await s.until(lambda: len([m for m in s.api.accepted() if "first sale" in m["body"]]) == 3)
        for number, status, code in ((ANA, "failed", "30005"), (BEN, "undelivered", "30003")):
            [sent] = [m for m in s.api.accepted() if m["to"] == number]
            callback = sent["status_callback"].removeprefix(sent["status_callback"].split("/twilio")[0])
            form = {"MessageSid": sent["sid"], "MessageStatus": status, "ErrorCode": code}
            answer = await s.carrier(number).post({**form, "AccountSid": ACCOUNT_SID}, callback)
            assert answer.status == 200
        await s.until(lambda: _finished(s, "c1"))
        assert (await s.admin("/api/campaigns/c1/retry")).status == 200
        await s.until(lambda: len(s.reached(ANA, "first sale")) == len(s.reached(BEN, "first sale")) == 2)
        await asyncio.sleep(1)
        assert len(s.reached("+14155550103", "first sale")) == 1


async def _finished(s: Scene, name: str) -> bool:
    return await s.campaign_status(name) == "finished"


async def test_a_campaign_at_a_slow_rate_can_be_paused_and_cancelled_while_it_sends(
    keywords_copy: Path, stage: Stage
) -> None:
    (keywords_copy / "campaigns.yaml").write_text(TWO_CAMPAIGNS)
    numbers = [f"+1415555{n:04d}" for n in range(40)]
    async with stage(rate=2) as s:
        await subscribed(s, *numbers)
        assert (await s.admin("/api/campaigns/c1/send")).status == 201
        await s.until(lambda: len(s.api.accepted()) >= 2)
        assert await s.campaign_status("c1") == "sending"
        assert (await s.admin("/api/campaigns/c1/pause")).status == 200
        paused_at = len(s.api.accepted())
        await asyncio.sleep(3)
        assert len(s.api.accepted()) <= paused_at + 1  # at most one already on the wire
        assert (await s.admin("/api/campaigns/c1/resume")).status == 200
        await s.until(lambda: len(s.api.accepted()) >= paused_at + 3)
        assert (await s.admin("/api/campaigns/c1/cancel")).status == 200
        cancelled_at = len(s.api.accepted())
        await asyncio.sleep(3)
        assert len(s.api.accepted()) <= cancelled_at + 1
        assert len(s.api.accepted()) < len(numbers) // 2
        async with services_of(s.app).engine.connect() as conn:
            reasons = set(await conn.scalars(select(campaign_recipients.c.reason)))
        assert "cancelled" in reasons


# -- retention never takes the words of a message still to go out ----------------------------------


async def test_retention_blanks_old_bodies_but_a_held_message_reaches_the_carrier_whole(
    keywords_copy: Path, stage: Stage
) -> None:
    short_waits(keywords_copy, "1s")
    quiet = closed_for(25)
    async with stage(quiet=quiet) as s:  # a cart reminder held by quiet hours, before retention is on
        await subscribed(s, UK)
        await s.events(checkout(1, UK, datetime.now(UTC), total_price="50"))

        async def held() -> bool:
            return any(r.status == "pending" and "cart" in r.body for r in await s.rows(UK))

        await s.until(held)
        assert s.reached(UK) == []
    async with services_of(s.app).engine.begin() as conn:  # forty days pass
        old = datetime.now(UTC) - timedelta(days=40)
        subscriber = await conn.scalar(select(subscribers.c.id).where(subscribers.c.phone == UK))
        await conn.execute(
            messages.insert().values(
                subscriber_id=subscriber,
                direction="outbound",
                body="Acme Outfitters: last month's sale",
                media_urls=["https://acme.example/sale.png"],
                status="delivered",
                created_at=old,
                updated_at=old,
                handed_at=old,
            )
        )
        await conn.execute(messages.update().values(created_at=old))
    async with stage(quiet=quiet, more="privacy:\n  keep_messages_days: 30\n") as s:
        await s.until(lambda: bool(s.reached(UK, "cart")), seconds=40)  # once the window opens
        rows = await s.rows(UK)
        delivered = [
            r for r in rows if r.status == "delivered" and r.handed_at and r.handed_at < old + timedelta(1)
        ]
        assert [(r.body, r.media_urls) for r in delivered] == [("", [])]  # the old one: words gone
    [sent] = s.reached(UK, "cart")  # the held reminder went out with every word it was written with
    assert "your order is still in your cart, and shipping is on us: https://" in sent


async def test_an_imported_list_is_texted_by_nobody_until_a_store_event_gives_a_reason(
    stage: Stage, keywords_copy: Path
) -> None:
    """Imported: a subscriber and an unsubscribed number. Nothing reaches either (no welcome, no
    confirmation); an abandoned cart then reaches the subscriber, named, and not the other."""
    short_waits(keywords_copy)
    listing = (
        "phone,status,consented_at,first_name\n"
        f"{ANA},subscribed,2025-03-01T10:00:00Z,Ana\n"
        f"{BEN},unsubscribed,2025-03-02T10:00:00Z,Ben\n"
    )
    async with stage() as scene:
        answer = await scene.app.post(
            "/api/subscribers/import",
            params={"name": "old.csv"},
            data=listing,
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        )
        assert answer.status == 200, await answer.text()
        await asyncio.sleep(3)  # many of the worker's turns: a welcome would have gone by now
        assert scene.api.accepted() == []
        now = datetime.now(UTC)
        await scene.events(checkout(1, ANA, now), checkout(2, BEN, now))
        await scene.until(lambda: bool(scene.reached(ANA, "cart")))
        assert "Hi Ana" in scene.reached(ANA, "cart")[0]
        await asyncio.sleep(1)
        assert scene.reached(BEN) == []


async def test_an_erased_number_gets_nothing_that_was_still_to_go_out(
    stage: Stage, keywords_copy: Path
) -> None:
    """Two abandoned carts, each reminder two seconds away; Ana is erased on request before hers
    falls due. Ben's reaches the carrier; nothing ever reaches Ana."""
    short_waits(keywords_copy)
    async with stage() as scene:
        await subscribed(scene, ANA, BEN)
        now = datetime.now(UTC)
        await scene.events(checkout(1, ANA, now), checkout(2, BEN, now))
        erased = await scene.admin(f"/api/subscribers/{ANA}/erase", reason="asked by phone")
        assert erased.status == 200, await erased.text()
        await scene.until(lambda: bool(scene.reached(BEN, "cart")))
        await asyncio.sleep(1)
        assert scene.reached(ANA) == []
        assert [m["to"] for m in scene.api.accepted()] == [BEN]  # nor to what her row became
