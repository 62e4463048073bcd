"""The Inbox in a real headless Chromium, with `smsbot worker` as a real process and the local
stand-in for Twilio's REST API: a subscriber texts a question, it appears without a reload, an agent
answers (a saved reply, the segment counter as they type), the answer reaches the carrier and its
delivery status shows in the thread without a reload."""

from __future__ import annotations

from playwright.async_api import Browser

from tests.conftest import ACCOUNT_SID
from tests.dashboard.test_browser import ARTIFACTS, browser  # noqa: F401 (the fixture)
from tests.dashboard.test_users import SECRET, smsbot_users
from tests.worker.carrier import Stage
from tests.worker.test_gate_at_the_carrier import ANA, subscribed


async def test_a_question_appears_an_agent_answers_and_the_delivery_shows_without_a_reload(
    browser: Browser,  # noqa: F811
    stage: Stage,
) -> None:
    async with stage() as s:
        assert smsbot_users(s.app, "add", "alex", "--role", "agent").returncode == 0
        await subscribed(s, ANA)
        page = await browser.new_page(viewport={"width": 1024, "height": 800})
        await page.goto(str(s.app.make_url("/dashboard/inbox")))
        await page.fill("input[name=name]", "alex")
        await page.fill("input[name=password]", SECRET)
        await page.click("button")
        await page.wait_for_url("**/dashboard/inbox")
        assert await page.locator("[data-conversation]").count() == 0

        await s.carrier(ANA).text("Do you have the trail boots in size 9?")
        row = page.locator("[data-conversation]")
        await row.wait_for(timeout=15_000)  # no reload: the page polls
        assert "trail boots in size 9" in await row.inner_text()
        await page.wait_for_function("document.title.startsWith('Inbox (1)')", timeout=10_000)

        await row.locator("a").click()
        await page.wait_for_selector("#body")
        await page.select_option("#saved", label="size_guide")
        assert "size guide" in await page.input_value("#body")
        await page.fill("#body", "Yes, in brown. Size guide: https://acme.example/sizes 👢")
        assert (await page.inner_text("#length")).endswith("1 segment (UCS-2)")  # the emoji
        await page.click("form#answer button")
        await page.wait_for_selector("li.outbound >> text=Yes, in brown")
        await s.until(lambda: bool(s.reached(ANA, "Yes, in brown")))

        [sent] = [m for m in s.api.accepted() if "Yes, in brown" in m["body"]]
        callback = sent["status_callback"].removeprefix(sent["status_callback"].split("/twilio")[0])
        form = {"MessageSid": sent["sid"], "MessageStatus": "delivered", "AccountSid": ACCOUNT_SID}
        assert (await s.carrier(ANA).post(form, callback)).status == 200
        delivered = page.locator("li.outbound", has_text="Yes, in brown").locator(
            '.status[data-status="delivered"]'
        )
        await delivered.wait_for(timeout=15_000)  # the thread is fetched again: no reload
        answer = page.locator("li.outbound", has_text="Yes, in brown")
        assert await answer.locator(".by").inner_text() == "alex"  # who wrote it
        assert await page.locator("li.outbound .by").first.inner_text() == "automatic reply"
        ARTIFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / "dashboard-inbox-thread.png"), full_page=True)
        marketing = await page.evaluate("document.querySelectorAll('#send').length")
        assert marketing == 0  # no campaign button for an agent anywhere here
