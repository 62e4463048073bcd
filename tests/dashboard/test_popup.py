"""The pop-up list builder in a real headless Chromium, on a store's page of another origin: it opens
the sign-up form in a dialog after its delay, closes with Escape (the focus back where it was), comes
back no sooner than its days allow, never on an excluded page, and asks nothing of anyone but the
store and smsbot."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from playwright.async_api import Browser

from tests.conftest import ClientFactory
from tests.dashboard.test_browser import browser  # noqa: F401 (the fixture)

SHOP = """<!doctype html><html><head><title>Acme</title></head><body>
<h1>Trail boots</h1><input id="search" aria-label="search">
<script src="{script}" data-delay="0.3" data-days="14" data-exclude="/checkout"></script>
</body></html>"""


@pytest.fixture
async def smsbot(make_client: ClientFactory) -> Any:
    return await make_client()


@pytest.fixture
async def shop(smsbot: Any) -> AsyncIterator[str]:
    """The store's own site, on another port (another origin), with the script on every page."""
    script = str(smsbot.make_url("/join/spring/popup.js"))

    async def any_page(request: web.Request) -> web.Response:
        return web.Response(text=SHOP.format(script=script), content_type="text/html")

    app = web.Application()
    app.router.add_get("/{path:.*}", any_page)
    server = TestServer(app)
    await server.start_server()
    yield str(server.make_url("")).rstrip("/")
    await server.close()


async def test_the_popup_opens_the_sign_up_form_once_and_never_on_an_excluded_page(
    browser: Browser,  # noqa: F811
    smsbot: Any,
    shop: str,
) -> None:
    page = await browser.new_page()
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    await page.goto(f"{shop}/products/boots")
    await page.focus("#search")
    dialog = page.locator("#smsbot-popup[role=dialog]")
    await dialog.wait_for(timeout=5_000)
    frame = page.frame_locator("#smsbot-popup iframe")
    await frame.locator("input[name=phone]").wait_for()  # the sign-up page itself, consent box and all
    assert await frame.locator("input[name=consent]").is_checked() is False
    assert await page.evaluate("document.activeElement.textContent") == "Close"  # the keyboard starts there
    await page.keyboard.press("Escape")
    await dialog.wait_for(state="detached")
    assert await page.evaluate("document.activeElement.id") == "search"  # the focus back where it was

    await page.reload()
    await page.wait_for_timeout(1_000)
    assert await dialog.count() == 0  # shown once: not again for 14 days

    await page.evaluate("window.localStorage.clear()")
    await page.goto(f"{shop}/checkout/step-1")
    await page.wait_for_timeout(1_000)
    assert await dialog.count() == 0  # an excluded page
    origins = {f"{urlsplit(url).scheme}://{urlsplit(url).netloc}" for url in asked}
    assert origins == {shop, str(smsbot.make_url("")).rstrip("/")}  # nobody else is asked anything


async def test_the_script_is_served_for_a_form_and_refused_for_a_strange_name(smsbot: Any) -> None:
    served = await smsbot.get("/join/spring/popup.js")
    assert served.status == 200 and served.content_type == "application/javascript"
    assert "localStorage" in await served.text()
    assert (await smsbot.get("/join/..%2Fx/popup.js")).status == 404
