"""Nothing a subscriber sends can make a reply Twilio refuses: no character XML 1.0 forbids, no
message over 1,600 characters, and what is stored is what is sent."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ClientFactory, Phone, record
from tests.conftest import messages as messages_of


@pytest.fixture
async def app(make_client: ClientFactory, keywords_copy: Path) -> Any:
    (keywords_copy / "hello.yaml").write_text(
        "keywords:\n  HELLO:\n    type: preference\n"
        '    reply: "Acme Outfitters: hi {{ first_name }}! Reply STOP to opt out."\n'
    )
    return await make_client(admin_token="admin-secret", keywords_dir=keywords_copy)


async def answer_first_name(app: Any, name: str) -> Phone:
    phone = Phone(app)
    await phone.text("JOIN")  # the welcome flow asks for the first name
    response = await phone.post(phone.form(name))
    assert response.status == 200
    ET.fromstring(await response.text())  # well-formed, or this raises
    return phone


@pytest.mark.parametrize("name", ["Ana\x1b", "Jo\x01", "Ana\uffff", "An\x00a"])
async def test_control_characters_in_an_answer_never_reach_the_twiml(app: Any, name: str) -> None:
    phone = await answer_first_name(app, name)
    stored = (await record(app))["properties"]["first_name"]
    assert stored.isprintable() and stored in ("Ana", "Jo", "An a")
    response = await phone.post(phone.form("HELLO"))  # its reply says {{ first_name }}
    assert response.status == 200
    [reply] = [m.text for m in ET.fromstring(await response.text()).iter("Message")]
    assert reply == f"Acme Outfitters: hi {stored}! Reply STOP to opt out."


async def test_a_paragraph_is_no_first_name_and_the_question_is_asked_again(app: Any) -> None:
    phone = await answer_first_name(app, "Ana " * 400)
    assert "first_name" not in (await record(app))["properties"]
    said = [m["body"] for m in await messages_of(app) if m["direction"] == "outbound"]
    assert said[-1] == "What's your first name?"
    assert all(len(body) <= 1600 for body in said)
    assert "first_name" not in (await record(app))["properties"]
    await phone.text("Ana")
    assert (await record(app))["properties"]["first_name"] == "Ana"
