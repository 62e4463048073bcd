"""The welcome flow through the webhook: the steps up to the first pause come back with the reply."""

import xml.etree.ElementTree as ET
from typing import Any

import pytest
import vobject
from sqlalchemy import select

from bot.store.schema import conversations
from tests.conftest import ADMIN_TOKEN, PUBLIC_URL, TOKEN, ClientFactory, Phone, record, services_of


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


async def callback(phone: Phone, twiml_action: str, status: str, **extra: str) -> None:
    form = {"MessageSid": "SM" + "c" * 32, "MessageStatus": status, "AccountSid": "AC1", **extra}
    response = await phone.post(form, path=twiml_action.removeprefix(PUBLIC_URL))
    assert response.status == 200


def actions(twiml: str) -> list[str]:
    return [m.get("action") or "" for m in ET.fromstring(twiml).iter("Message")]


async def test_the_contact_card_delivered_sets_vcard_received(app: Any) -> None:
    phone = Phone(app, token=TOKEN, public_url=PUBLIC_URL)
    response = await phone.post(phone.form("JOIN"))
    card_action = actions(await response.text())[2]
    await callback(phone, card_action, "sent")
    assert "vcard_received" not in (await record(app))["properties"]  # sent is not delivered
    await callback(phone, card_action, "delivered")
    assert (await record(app))["properties"]["vcard_received"] is True


async def test_a_reply_refused_with_21610_unsubscribes_the_number(app: Any) -> None:
    phone = Phone(app, token=TOKEN, public_url=PUBLIC_URL)
    response = await phone.post(phone.form("JOIN"))
    await phone.post(phone.form("Ana"))
    await phone.post(phone.form("04/23"))
    assert (await phone.post(phone.form("do you ship to Canada?"))).status == 200  # a conversation opens
    await callback(phone, actions(await response.text())[1], "failed", ErrorCode="21610")
    found = await record(app)
    assert found["status"] == "unsubscribed" and found["consent"][-1]["source"] == "carrier:21610"
    assert found["flows"][0]["status"] == "cancelled"
    async with services_of(app).engine.connect() as conn:
        talk = (await conn.execute(select(conversations.c.status, conversations.c.closed_by))).one()
    assert tuple(talk) == ("closed", "opted out")  # as by a STOP
