"""The welcome flow through the webhook: the steps up to the first pause come back with the reply."""

import xml.etree.ElementTree as ET
from typing import Any

import pytest
import vobject

from tests.conftest import ADMIN_TOKEN, PUBLIC_URL, TOKEN, ClientFactory, Phone, record


@pytest.fixture
async def app(make_client: ClientFactory) -> Any:
    return await make_client(admin_token=ADMIN_TOKEN, twilio_auth_token=TOKEN, public_url=PUBLIC_URL)


def messages_of(twiml: str) -> list[tuple[str, list[str]]]:
    root = ET.fromstring(twiml)
    return [
        ((m.text or "").strip(), [media.text or "" for media in m.iter("Media")])
        for m in root.iter("Message")
    ]


async def text(phone: Phone, body: str) -> list[tuple[str, list[str]]]:
    response = await phone.post(phone.form(body))
    assert response.status == 200
    return messages_of(await response.text())


async def test_join_from_a_us_number_gets_confirmation_greeting_card_by_mms_and_the_question(
    app: Any,
) -> None:
    phone = Phone(app, token=TOKEN, public_url=PUBLIC_URL)
    said = await text(phone, "JOIN")
    assert len(said) == 4
    assert said[0][0].startswith("Acme Outfitters: Thanks for joining")
    assert said[1][0].startswith("Acme Outfitters: Welcome!")
    assert said[2] == ("", [f"{PUBLIC_URL}/vcards/acme.vcf"])  # the card itself, by MMS
    assert said[3] == ("What's your first name?", [])
    card = await app.get(said[2][1][0].removeprefix(PUBLIC_URL))
    assert card.status == 200 and vobject.readOne(await card.text()).fn.value == "Acme Outfitters"


async def test_answers_land_as_typed_properties_and_the_flow_moves_on(app: Any) -> None:
    phone = Phone(app, token=TOKEN, public_url=PUBLIC_URL)
    await text(phone, "JOIN")
    assert await text(phone, "Ana") == [("When's your birthday? (MM/DD) We'll send a treat.", [])]
    assert await text(phone, "13/45") == [("Please send your birthday as MM/DD, for example 04/23.", [])]
    assert await text(phone, "04/23") == []  # answered; the flow now waits a day (the worker's part)
    found = await record(app)
    assert found["properties"] == {"first_name": "Ana", "birthday": "--04-23"}
    [run] = found["flows"]
    assert (run["status"], run["step"]) == ("active", 5) and run["due_at"] > found["subscribed_at"]


async def test_a_uk_number_gets_a_link_to_the_card_instead_of_mms(app: Any) -> None:
    phone = Phone(app, "+447700900123", token=TOKEN, public_url=PUBLIC_URL)
    said = await text(phone, "JOIN")
    assert said[2] == (
        f"Acme Outfitters: Save our contact card so you know it's us: {PUBLIC_URL}/vcards/acme.vcf",
        [],
    )
    assert all(not media for _, media in said)


async def test_stop_while_a_question_waits_ends_the_flow_and_nothing_more_is_said(app: Any) -> None:
    phone = Phone(app, token=TOKEN, public_url=PUBLIC_URL)
    await text(phone, "JOIN")
    await text(phone, "STOP")
    assert await text(phone, "Ana") == []
    found = await record(app)
    assert "first_name" not in found["properties"] and found["flows"][0]["status"] == "cancelled"


async def test_help_and_keywords_do_not_answer_the_question(app: Any) -> None:
    phone = Phone(app, token=TOKEN, public_url=PUBLIC_URL)
    await text(phone, "JOIN")
    assert "For help contact" in (await text(phone, "HELP"))[0][0]
    assert "in-store events" in (await text(phone, "EVENTS"))[0][0]  # keywords interrupt, by default
    found = await record(app)
    assert found["properties"] == {"interests": ["events"]} and found["flows"][0]["step"] == 2
    assert await text(phone, "Ana") == [("When's your birthday? (MM/DD) We'll send a treat.", [])]
