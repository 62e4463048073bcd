"""The sign-up page end to end: the form asks for consent with the disclosure, sends the double
opt-in text, and a Y makes a subscriber whose opt-in source is web:{form}; it cannot be used to
text a number again and again."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from bot.store.schema import consent_events, messages, subscribers
from tests.conftest import ClientFactory, Phone, services_of

NUMBER = "+14155550123"


@pytest.fixture
async def app(make_client: ClientFactory) -> Any:
    return await make_client()


async def submit(app: Any, phone: str = "(415) 555-0123", consent: bool = True, form: str = "spring") -> Any:
    page = await app.get(f"/join/{form}")
    token = re.search(r'name="token" value="([^"]+)"', await page.text())
    assert token is not None
    data = {"token": token.group(1), "phone": phone, **({"consent": "yes"} if consent else {})}
    return await app.post(f"/join/{form}", data=data)


async def stored(app: Any) -> tuple[list[Any], list[Any], list[Any]]:
    async with services_of(app).engine.connect() as conn:
        people = (await conn.execute(select(subscribers))).all()
        consent = (await conn.execute(select(consent_events).order_by(consent_events.c.id))).all()
        texts = (await conn.execute(select(messages).where(messages.c.direction == "outbound"))).all()
    return list(people), list(consent), list(texts)


async def test_the_form_shows_the_disclosure_with_the_box_unchecked(app: Any) -> None:
    text = await (await app.get("/join/spring")).text()
    assert 'type="checkbox" name="consent" value="yes">' in text and "checked" not in text
    for said in (
        "Msg &amp; data rates may apply",
        "Reply HELP for help and STOP to cancel",
        "not\n    a condition of purchase",
    ):
        assert said in text


async def test_signing_up_sends_the_confirmation_and_y_subscribes_with_the_forms_source(app: Any) -> None:
    answer = await submit(app)
    assert answer.status == 200 and "reply <strong>Y</strong>" in await answer.text()
    [person], [asked], [prompt] = await stored(app)
    assert (person.phone, person.status, person.opt_in_source) == (NUMBER, "pending", "web:spring")
    assert (asked.action, asked.source) == ("opt_in_requested", "web:spring")
    assert "consent box ticked, from 127.0.0.1" in asked.text
    assert "Reply Y to confirm" in prompt.body and prompt.status == "pending" and prompt.marketing is False
    await Phone(app, NUMBER).text("Y")
    [person], consent, _ = await stored(app)
    assert person.status == "subscribed" and person.opt_in_source == "web:spring"
    assert [(c.action, c.source) for c in consent][-1] == ("opt_in_confirmed", "web:spring")


async def test_without_the_box_ticked_or_a_number_nothing_is_stored(app: Any) -> None:
    unticked = await submit(app, consent=False)
    page = await unticked.text()
    assert unticked.status == 400 and "Tick the box" in page
    assert 'value="(415) 555-0123"' in page  # what they typed is kept: only the tick is missing
    bad = await submit(app, phone='call me "now"')
    assert bad.status == 400 and 'value="call me &#34;now&#34;"' in await bad.text()  # escaped
    assert await stored(app) == ([], [], [])


async def test_a_number_is_asked_three_times_a_day_at_most(app: Any) -> None:
    for _ in range(3):
        assert (await submit(app)).status == 200
    fourth = await submit(app)
    assert fourth.status == 429
    _, _, texts = await stored(app)
    assert len(texts) == 3


async def test_a_subscriber_is_told_the_same_and_sent_nothing(app: Any) -> None:
    await Phone(app, NUMBER).text("JOIN")
    _, _, before = await stored(app)
    answer = await submit(app)
    assert answer.status == 200 and "Check your phone" in await answer.text()
    _, _, after = await stored(app)
    assert len(after) == len(before)


async def test_a_forged_form_or_a_strange_form_name_is_refused(app: Any) -> None:
    forged = await app.post("/join/spring", data={"token": "x", "phone": NUMBER, "consent": "yes"})
    assert forged.status == 403
    assert (await app.get("/join/..%2Fadmin")).status == 404
    assert await stored(app) == ([], [], [])
