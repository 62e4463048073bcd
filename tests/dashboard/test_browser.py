"""The dashboard in a real headless Chromium (Debian's, driven by Playwright): log in, open every page,
check that the numbers shown are what the database holds, and keep a screenshot of each page under
test-artifacts/."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from playwright.async_api import Browser, Page, async_playwright
from sqlalchemy import insert

from bot.store.rows import new_subscriber
from bot.store.schema import subscribers
from bot.store.segments import count
from tests.conftest import ROOT, ClientFactory, services_of

PASSWORD = "correct horse battery staple"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Chromium as root, in a closed network: no sandbox, no background calls home.
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield launched
        await launched.close()


@pytest.fixture
async def app(make_client: ClientFactory) -> Any:
    client = await make_client(dashboard_password=PASSWORD)
    now = datetime.now(UTC)
    people = [
        {**new_subscriber(f"+1415555{n:04d}", now), "status": status, "properties": props}
        for n, (status, props) in enumerate(
            [
                ("subscribed", {"vip": True}),
                ("subscribed", {"interests": ["shoes"]}),
                ("unsubscribed", {"vip": True}),
            ]
        )
    ]
    async with services_of(client).engine.begin() as conn:
        await conn.execute(insert(subscribers), people)
    return client


async def logged_in(browser: Browser, app: Any) -> Page:
    page = await browser.new_page(viewport={"width": 390, "height": 844})  # a phone
    await page.goto(str(app.make_url("/dashboard/program")))
    await page.fill("input[name=password]", "wrong")
    await page.click("button")
    assert await page.inner_text(".error") == "Wrong password."
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button")
    await page.wait_for_url("**/dashboard/program")
    return page


async def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"dashboard-{name}.png"), full_page=True)


async def test_logging_in_and_reading_every_page_in_a_real_browser(browser: Browser, app: Any) -> None:
    page = await logged_in(browser, app)
    program = services_of(app).services.program.current
    assert await page.inner_text("#keywords") == str(len(program.keywords))
    assert (await page.inner_text("#check-summary")).startswith("0 errors")
    await shot(page, "program")

    await page.click("nav >> text=Overview")
    await page.wait_for_url("**/dashboard")
    shown = {
        s: await page.inner_text(f'td[data-status="{s}"]') for s in ("subscribed", "unsubscribed", "all")
    }
    assert shown == {"subscribed": "2", "unsubscribed": "1", "all": "3"}
    await shot(page, "overview")

    await page.click("nav >> text=Segments")
    await page.wait_for_url("**/dashboard/segments")
    async with services_of(app).engine.connect() as conn:
        for name in ("all_subscribers", "vip", "shoe_fans"):
            members, subscribed = await conn.run_sync(
                count, program.segments[name], program.segments, datetime.now(UTC)
            )
            row = page.locator(f'tr[data-segment="{name}"]')
            assert await row.locator(".members").inner_text() == str(members), name
            assert await row.locator(".subscribed").inner_text() == str(subscribed), name
    await shot(page, "segments")

    await page.click("text=Log out")
    await page.wait_for_url("**/dashboard/login")
    await page.goto(str(app.make_url("/dashboard/segments")))
    assert "/dashboard/login" in page.url  # the session is gone
    kept = {p.name for p in ARTIFACTS.glob("dashboard-*.png")}
    assert {"dashboard-overview.png", "dashboard-program.png", "dashboard-segments.png"} <= kept
