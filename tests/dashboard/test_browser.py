"""The dashboard in a real headless Chromium (Debian's, driven by Playwright): log in, open every page,
check that the numbers shown are what the database holds, and keep a screenshot of each page under
test-artifacts/."""

from __future__ import annotations

import io
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
import zxingcpp
from PIL import Image
from playwright.async_api import Browser, Page, Route, async_playwright
from sqlalchemy import func, insert, select

from bot.store.rows import new_subscriber
from bot.store.schema import audit_log, campaign_recipients, consent_events, keyword_events, subscribers
from bot.store.segments import count
from tests.conftest import ROOT, ClientFactory, Phone, services_of

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
    client = await make_client(dashboard_password=PASSWORD, poster_number="55555")
    now = datetime.now(UTC)
    people = [
        {
            **new_subscriber(f"+1415555{n:04d}", now),
            "status": status,
            "properties": props,
            "language": language,
        }
        for n, (status, props, language) in enumerate(
            [
                ("subscribed", {"vip": True}, None),
                ("subscribed", {"interests": ["shoes"]}, None),
                ("unsubscribed", {"vip": True}, None),
                ("subscribed", {}, "es"),  # the Spanish winter sale's one recipient
            ]
        )
    ]
    async with services_of(client).engine.begin() as conn:
        await conn.execute(insert(subscribers), people)
    await Phone(client, "+14155550999").text("JOIN")  # a keyword texted: its counts are not all zero
    return client


async def logged_in(browser: Browser, app: Any) -> Page:
    page = await browser.new_page(viewport={"width": 390, "height": 844})  # a phone
    await page.goto(str(app.make_url("/dashboard/program")))
    await page.fill("input[name=password]", "wrong")
    await page.click("button")
    assert await page.inner_text(".error") == "Wrong name or password."
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
    assert shown == {"subscribed": "4", "unsubscribed": "1", "all": "5"}
    async with services_of(app).engine.connect() as conn:
        joined = (
            await conn.execute(select(func.count()).where(consent_events.c.to_status == "subscribed"))
        ).scalar_one()
    assert await page.inner_text('tr[data-figure="joined"] td >> nth=0') == str(joined) == "1"
    drawn = await page.evaluate("['growth', 'opt-outs', 'messages'].map(id => !!Chart.getChart(id))")
    assert drawn == [True, True, True]  # the vendored Chart.js drew each chart
    await shot(page, "overview")

    await page.click("nav >> text=Flows")
    await page.wait_for_url("**/dashboard/flows")
    assert await page.inner_text('section[data-flow="welcome"] .started') == "1"
    assert await page.inner_text('section[data-flow="welcome"] tr[data-step="3"] .reached') == "1"
    await shot(page, "flows")

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

    await page.click("nav >> text=Subscribers")
    await page.fill("input[name=phone]", "(415) 555-0003")
    await page.click("text=Find")
    assert await page.inner_text("#phone") == "+14155550003"
    assert await page.inner_text("#sub-status") == "subscribed"
    await shot(page, "subscriber")

    await send_a_campaign(page, app)
    await read_the_keywords(page, app)

    await page.click("text=Log out")
    await page.wait_for_url("**/dashboard/login")
    await page.goto(str(app.make_url("/dashboard/segments")))
    assert "/dashboard/login" in page.url  # the session is gone
    kept = {p.name for p in ARTIFACTS.glob("dashboard-*.png")}
    expected = {
        "overview",
        "program",
        "segments",
        "subscriber",
        "campaigns",
        "campaign-preview",
        "campaign-sending",
        "keywords",
        "flows",
    }
    assert {f"dashboard-{name}.png" for name in expected} <= kept


async def send_a_campaign(page: Page, app: Any) -> None:
    """Campaigns → the Spanish winter sale's preview (one Spanish speaker) → Send → its progress."""
    await page.click("nav >> text=Campaigns")
    await page.wait_for_url("**/dashboard/campaigns")
    assert await page.inner_text('tr[data-campaign="ofertas_de_invierno"] .status') == "not sent"
    await shot(page, "campaigns")
    await page.click("text=ofertas_de_invierno")
    assert await page.inner_text("#recipients") == "1"
    await shot(page, "campaign-preview")
    asked: list[str] = []

    async def answer(dialog: Any) -> None:
        asked.append(dialog.message)
        await (dialog.dismiss() if len(asked) == 1 else dialog.accept())

    page.on("dialog", answer)
    await page.click("#send")  # asked, and dismissed: nothing is sent
    assert asked == ["Send ofertas_de_invierno to 1 person now? It cannot be unsent."]
    assert await page.inner_text("#recipients") == "1"
    await page.click("#send")  # asked again, and accepted
    await page.wait_for_selector("#status")
    assert await page.inner_text("#status") == "sending" and await page.inner_text("#audience") == "1"
    await shot(page, "campaign-sending")
    async with services_of(app).engine.connect() as conn:
        rows = (await conn.execute(select(campaign_recipients.c.subscriber_id))).all()
        actions = [
            (r.action, r.detail) for r in await conn.execute(select(audit_log).order_by(audit_log.c.id))
        ]
    assert len(rows) == 1
    assert ("campaign_send", "ofertas_de_invierno") in actions


async def read_the_keywords(page: Page, app: Any) -> None:
    """Keywords: JOIN's texts and opt-ins as the database holds them; its poster shown, its QR code
    decoding to the sms: link."""
    await page.click("nav >> text=Keywords")
    await page.wait_for_url("**/dashboard/keywords")
    async with services_of(app).engine.connect() as conn:
        texts = (
            await conn.execute(select(func.count()).where(keyword_events.c.keyword == "JOIN"))
        ).scalar_one()
        joined = (
            await conn.execute(
                select(func.count()).where(
                    consent_events.c.source == "JOIN", consent_events.c.to_status == "subscribed"
                )
            )
        ).scalar_one()
    row = page.locator('tr[data-keyword="JOIN"]')
    assert (await row.locator(".texts").inner_text(), await row.locator(".opt-ins").inner_text()) == (
        str(texts),
        str(joined),
    )
    assert texts == 1 and joined == 1
    drawn = await page.eval_on_selector(
        'figure[data-poster="JOIN"] img', "img => img.complete && img.naturalWidth"
    )
    assert drawn and drawn > 0
    png = await page.request.get(str(app.make_url("/dashboard/keywords/JOIN/qr.png")))
    [code] = zxingcpp.read_barcodes(Image.open(io.BytesIO(await png.body())))
    assert code.text == "sms:55555?&body=JOIN"
    await shot(page, "keywords")


async def test_signing_up_on_the_page_in_a_real_browser(browser: Browser, app: Any) -> None:
    page = await browser.new_page(viewport={"width": 390, "height": 844})
    await page.goto(str(app.make_url("/join/spring")))
    await page.fill("input[name=phone]", "(415) 555-0177")
    await page.click("button")
    assert "Tick the box" in await page.inner_text(".error")  # the box starts unchecked
    await page.fill("input[name=phone]", "(415) 555-0177")
    await page.check("input[name=consent]")
    await shot(page, "signup")
    await page.click("button")
    assert "reply Y to confirm" in await page.inner_text("#joined")
    await Phone(app, "+14155550177").text("Y")
    async with services_of(app).engine.connect() as conn:
        found = (await conn.execute(select(subscribers).where(subscribers.c.phone == "+14155550177"))).one()
    assert (found.status, found.opt_in_source) == ("subscribed", "web:spring")


SITE = "https://sms.acme.example"  # smsbot's public address, as the browser sees it


async def test_the_snippet_embeds_the_sign_up_form_in_the_brands_own_site(
    browser: Browser, make_client: ClientFactory
) -> None:
    """The snippet from the Keywords page, pasted into the brand's page on another site: the form
    in its iframe asks for a Y, and the Y subscribes them with the source web:website. The browser
    reaches smsbot over https (its requests are carried to the test server), as it would in service."""
    app = await make_client(dashboard_password=PASSWORD, public_url=f"{SITE}/")
    local = str(app.make_url("/")).rstrip("/")
    context = await browser.new_context(viewport={"width": 390, "height": 844})

    async def carried(route: Route) -> None:
        answer = await route.fetch(url=route.request.url.replace(SITE, local, 1), max_redirects=0)
        where = answer.headers.get("location")
        if where is None:
            await route.fulfill(response=answer)
            return
        # Chromium will not follow a redirect a route fulfils: the same step, as a page.
        headers = {k: v for k, v in answer.headers.items() if k.lower() == "set-cookie"}
        body = f'<meta http-equiv="refresh" content="0;url={where}">'
        await route.fulfill(status=200, headers=headers, body=body, content_type="text/html")

    await context.route(lambda url: url.startswith(f"{SITE}/"), carried)
    page = await context.new_page()
    await page.goto(f"{SITE}/dashboard/keywords")
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button")
    await page.wait_for_url(f"{SITE}/dashboard/keywords")
    snippet = await page.inner_text("#snippet")
    assert snippet.startswith(f'<iframe src="{SITE}/join/website"')
    brand = f"<!doctype html><title>Acme Outfitters</title><h1>Get our texts</h1>{snippet}"
    await context.route(
        "https://acme.example/", lambda route: route.fulfill(body=brand, content_type="text/html")
    )
    await page.goto("https://acme.example/")
    form = page.frame_locator("iframe")
    await form.locator("input[name=phone]").fill("(415) 555-0178")
    await form.locator("input[name=consent]").check()
    await form.locator("button").click()
    assert "reply Y to confirm" in await form.locator("#joined").inner_text()
    await shot(page, "snippet")
    await Phone(app, "+14155550178").text("Y")
    async with services_of(app).engine.connect() as conn:
        found = (await conn.execute(select(subscribers).where(subscribers.c.phone == "+14155550178"))).one()
    assert (found.status, found.opt_in_source) == ("subscribed", "web:website")
    await context.close()
