"""The README's dashboard screenshots, taken from a demonstration program built through smsbot itself.

    .venv/bin/python docs/screenshots.py        # (make browser-deps first: Debian's chromium)

A fresh SQLite file gets 30 days of history (joins by keyword and sign-up form, opt-outs, flow
messages delivered or failed), written straight into the tables so that each row carries its own
date (the counting triggers place it in its day, as in service). Then a Black Friday campaign (added
to a copy of the shipped program) is sent for real: started as the dashboard starts it, handed over
by the worker (the dry run: nothing leaves the machine), delivered, tapped through /l/{code}, and
bought from through the store events API, which credits the orders. Chromium then photographs the
Overview and the campaign's report; three shoppers' questions in the Inbox and a person's answer.
"""

from __future__ import annotations

import asyncio
import random
import shutil
import sys
import tempfile
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aiohttp.test_utils import TestClient, TestServer  # noqa: E402
from playwright.async_api import async_playwright  # noqa: E402
from sqlalchemy import insert, select, update  # noqa: E402
from sqlalchemy.engine import Connection  # noqa: E402

from bot.app import create_app  # noqa: E402
from bot.channels import make_sender  # noqa: E402
from bot.domain.quiet_hours import QuietHours, Window  # noqa: E402
from bot.http.admin import write  # noqa: E402
from bot.http.campaigns import start_now  # noqa: E402
from bot.pipeline import answers  # noqa: E402
from bot.services import SERVICES, Services  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from bot.store.rows import new_subscriber  # noqa: E402
from bot.store.schema import consent_events, conversations, links, messages, subscribers  # noqa: E402
from bot.worker.loop import Worker  # noqa: E402

PASSWORD = "screenshots"
OUT = ROOT / "docs"
NOW = datetime.now(UTC)
SOURCES = [("JOIN", "JOIN")] * 6 + [("SHOES", "in-store-shoe-display")] * 3 + [("JOIN", "web:spring")] * 2
FAILURES = [30003, 30003, 30005, 30007]
ALWAYS = QuietHours(default=Window(time(0, 0), time(23, 59, 59, 999999)))
SALE = "black_friday"
CAMPAIGN = """
  black_friday:
    segment: all_subscribers
    message:
      en: >-
        Acme: Black Friday starts now, {{ first_name | default("friend") }}: 30% off everything.
        {{ link("https://acme.example/black-friday") }} Reply STOP to opt out
"""  # sent at once when told: the shipped ones wait for their date


def history(conn: Connection, rng: random.Random) -> None:
    """30 days of joins, opt-outs and flow messages, each row on its own day."""
    n = 0
    for days_ago in range(30, -1, -1):
        day = NOW - timedelta(days=days_ago)
        for _ in range(rng.randint(25, 60) + (30 - days_ago)):
            n += 1
            at = day.replace(hour=rng.randint(9, 20), minute=rng.randint(0, 59))
            at = min(at, NOW - timedelta(minutes=5))
            keyword, source = rng.choice(SOURCES)
            leaving = rng.random() < 0.04
            person = {
                **new_subscriber(f"+1415{n:07d}", at),
                "status": "unsubscribed" if leaving else "subscribed",
                "opt_in_keyword": keyword,
                "opt_in_source": source,
                "subscribed_at": at,
                "engaged_at": at,
                "language": "en",
                "properties": {
                    "first_name": rng.choice(["Ana", "Ben", "Cleo", "Dev"]),
                    "interests": ["shoes"],
                },
            }
            sid = conn.execute(insert(subscribers).values(**person).returning(subscribers.c.id)).scalar_one()
            joined = {"subscriber_id": sid, "keyword": keyword, "source": source, "at": at}
            conn.execute(
                insert(consent_events).values(
                    action="opt_in", from_status="new", to_status="subscribed", **joined
                )
            )
            for step in range(3):
                sent = at + timedelta(minutes=step)
                status, code = (
                    ("failed", rng.choice(FAILURES)) if rng.random() < 0.03 else ("delivered", None)
                )
                conn.execute(
                    insert(messages).values(
                        subscriber_id=sid, direction="outbound", body="Welcome", media_urls=[],
                        status=status, error_code=code, run_id=sid, created_at=sent, updated_at=sent,
                        handed_at=sent,
                    )
                )  # fmt: skip
            if leaving:
                gone = at + timedelta(hours=rng.randint(1, 30))
                conn.execute(
                    insert(consent_events).values(
                        subscriber_id=sid, action="opt_out", from_status="subscribed",
                        to_status="unsubscribed", keyword="STOP", at=min(gone, NOW),
                    )
                )  # fmt: skip


async def send_the_sale(client: TestClient[Any, Any], services: Services, rng: random.Random) -> None:
    """The sale, as the dashboard sends it; the worker hands it over; phones deliver, tap, buy."""
    program = services.program.current
    sale = program.campaigns[SALE]
    await write(services, start_now, sale, program, services, "dashboard from 203.0.113.10", False)
    assert services.engine is not None and services.redis is not None
    worker = Worker(
        services.settings, services.engine, services.redis, lambda: program, make_sender(services.settings)
    )
    idle = 0
    while idle < 3:  # until three rounds in a row find nothing more to queue or send
        tick = await worker.tick()
        idle = 0 if tick.queued or tick.sent else idle + 1
        await asyncio.sleep(0.05)
    worker.close()
    async with services.engine.begin() as conn:
        sent = (
            (await conn.execute(select(messages.c.id).where(messages.c.campaign_id.is_not(None))))
            .scalars()
            .all()
        )
        for message in sent:
            failed = rng.random() < 0.02
            values = {"status": "failed", "error_code": 30003} if failed else {"status": "delivered"}
            await conn.execute(update(messages).where(messages.c.id == message).values(**values))
        codes = (await conn.execute(select(links.c.code, links.c.subscriber_id))).all()
    for code, subscriber in codes:
        if rng.random() < 0.14:
            await client.get(
                f"/l/{code}", allow_redirects=False, headers={"User-Agent": "Mozilla/5.0 (iPhone)"}
            )
            if rng.random() < 0.22:
                await buy(client, services, subscriber, rng)


async def buy(client: TestClient[Any, Any], services: Services, subscriber: int, rng: random.Random) -> None:
    assert services.engine is not None
    async with services.engine.connect() as conn:
        phone = (
            await conn.execute(select(subscribers.c.phone).where(subscribers.c.id == subscriber))
        ).scalar_one()
    order = {
        "id": f"order-{subscriber}",
        "type": "order_placed",
        "phone": phone,
        "occurred_at": datetime.now(UTC).isoformat(),
        "properties": {
            "order_id": str(subscriber),
            "total_price": f"{rng.randint(60, 180)}.00",
            "currency": "USD",
        },
    }
    token = services.settings.admin_token
    response = await client.post("/api/events", json=order, headers={"Authorization": f"Bearer {token}"})
    assert response.status == 200, await response.text()


QUESTIONS = [  # texts the program does not know: each opens a conversation in the Inbox
    ("+14155550191", "Hi! Do the trail boots come in a wide fit?"),
    ("+14155550192", "my order #2417 never came :("),
    ("+14155550193", "is the black friday sale on in the Boston store too?"),
]


async def talk(client: TestClient[Any, Any], services: Services) -> int:
    """Three shoppers ask questions; a person answers the first (the worker hands it over)."""
    for n, (phone, question) in enumerate(QUESTIONS):
        form = {"MessageSid": f"SMdemo{n:026d}", "From": phone, "To": "+15005550006", "Body": question}
        assert (await client.post("/twilio/sms", data=form)).status == 200
    async with services.engine.connect() as conn:  # type: ignore[union-attr]
        first = (
            (await conn.execute(select(conversations.c.id).order_by(conversations.c.id))).scalars().first()
        )
    assert first is not None
    answer_text = "Yes! The trail boots come in wide from size 7 to 13. Want a link?"
    await write(services, answers.answer, first, answer_text, "maria", datetime.now(UTC))
    return int(first)


async def photograph(client: TestClient[Any, Any], conversation: int) -> None:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"]
        )
        page = await browser.new_page(viewport={"width": 1000, "height": 900})
        await page.goto(str(client.make_url("/dashboard/login")))
        await page.fill("input[name=password]", PASSWORD)
        await page.click("button")
        await page.wait_for_url("**/dashboard")
        await page.screenshot(path=str(OUT / "dashboard-overview.png"), full_page=True)
        await page.goto(str(client.make_url(f"/dashboard/campaigns/{SALE}")))
        await page.screenshot(path=str(OUT / "dashboard-campaign-report.png"), full_page=True)
        await page.goto(str(client.make_url("/dashboard/inbox")))
        await page.screenshot(path=str(OUT / "dashboard-inbox.png"), full_page=True)
        await page.goto(str(client.make_url(f"/dashboard/inbox/{conversation}")))
        await page.screenshot(path=str(OUT / "dashboard-conversation.png"), full_page=True)
        await browser.close()


async def main() -> None:
    with tempfile.TemporaryDirectory(prefix="smsbot-screenshots-") as folder:
        keywords = Path(folder) / "keywords"
        shutil.copytree(ROOT / "keywords", keywords)
        with (keywords / "campaigns.yaml").open("a") as campaigns:
            campaigns.write(CAMPAIGN)
        settings = load_settings(
            ROOT / "config.yaml",
            env={},
            data_dir=Path(folder) / "var",
            keywords_dir=keywords,
            database_url=f"sqlite:///{folder}/demo.db",
            dashboard_password=PASSWORD,
            admin_token="screenshots-admin",
            public_url="https://acme.example",
            quiet_hours=ALWAYS,
            send_rate=1000.0,
        )
        client: TestClient[Any, Any] = TestClient(TestServer(create_app(settings)))
        await client.start_server()
        try:
            assert client.app is not None
            services = client.app[SERVICES]
            rng = random.Random(11)
            await write(services, history, rng)
            conversation = await talk(client, services)
            await send_the_sale(client, services, rng)  # its worker hands the answer over too
            await photograph(client, conversation)
        finally:
            await client.close()
    print(f"wrote the Overview, a campaign's report, the Inbox and a conversation under {OUT}")


if __name__ == "__main__":
    asyncio.run(main())
