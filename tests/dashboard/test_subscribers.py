"""A subscriber found by number on the dashboard: their record, consent log and one timeline of
messages and orders; what they typed is shown as text, never as markup."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.domain.store_events import from_api
from bot.pipeline.store_events import EventBatch
from tests.conftest import ClientFactory, Phone, services_of
from tests.dashboard.test_auth import PASSWORD, log_in


async def test_a_subscriber_by_number_shows_record_consent_and_timeline(app: Any) -> None:
    await Phone(app, "+14155550123").text("JOIN")
    await Phone(app, "+14155550123").text("<script>alert(1)</script>")
    order = {
        "id": "o1",
        "phone": "+14155550123",
        "type": "order_placed",
        "occurred_at": datetime.now(UTC).isoformat(),
        "properties": {"order_id": "1001", "order_name": "#1001", "total_price": "19.99", "currency": "USD"},
    }
    writer = services_of(app).services.writer
    assert writer is not None
    await writer.events(EventBatch((from_api(order, "US"),)))
    page = await app.get("/dashboard/subscribers", params={"phone": "(415) 555-0123"})
    text = await page.text()
    assert page.status == 200
    assert 'id="sub-status">subscribed<' in text and "opt_in (new → subscribed)" in text
    assert (
        "<strong>message inbound</strong> JOIN" in text
        and "<strong>order_placed</strong> #1001 19.99 USD" in text
    )
    assert "<script>alert(1)</script>" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text


async def test_an_unknown_or_malformed_number_says_so(app: Any) -> None:
    unknown = await (await app.get("/dashboard/subscribers", params={"phone": "+14155550199"})).text()
    assert "no subscriber +14155550199" in unknown
    malformed = await (await app.get("/dashboard/subscribers", params={"phone": "call me"})).text()
    assert "has letters in it" in malformed


async def test_an_unclear_opt_out_is_listed_for_review_with_its_number_masked(app: Any) -> None:
    await Phone(app, "+14155550123").text("JOIN")
    await Phone(app, "+14155550124").text("JOIN")
    await Phone(app, "+14155550123").text("not interested")  # asked to reply STOP; still subscribed
    await Phone(app, "+14155550124").text("too many texts")
    await Phone(app, "+14155550124").text("STOP")  # gone: nothing left to review
    page = await (await app.get("/dashboard/subscribers")).text()
    review = page.split('id="review"')[1].split("</table>")[0]
    assert review.count("<tr data-subscriber=") == 1 and "not interested" in review
    assert '<td class="why">&#39;not interested&#39; said alone: asked</td>' in review  # the rule
    assert "+14155550123" not in page and "+14*******23" in review
    subscriber = review.split('data-subscriber="')[1].split('"')[0]
    found = await (await app.get("/dashboard/subscribers", params={"id": subscriber})).text()
    assert '<h2 id="phone">+14155550123</h2>' in found
    for odd in ("²", "١٢", "-1", "99999999999999999999"):  # digits to Python, or out of range: the list
        listed = await app.get("/dashboard/subscribers", params={"id": odd})
        assert listed.status == 200 and 'id="review"' in await listed.text()


async def test_the_keywords_page_gives_the_sign_up_snippet_for_the_public_address(
    make_client: ClientFactory,
) -> None:
    client = await make_client(dashboard_password=PASSWORD, public_url="http://sms.acme.example/")
    await log_in(client)
    page = await (await client.get("/dashboard/keywords")).text()
    assert '&lt;iframe src="http://sms.acme.example/join/website"' in page
    assert (await client.get("/join/website")).status == 200  # the page the snippet embeds
