"""The shipped Acme Outfitters program, through the webhook, the database and the admin API."""

from pathlib import Path
from typing import Any

import pytest

from bot.program.loader import load_program
from tests.conftest import ClientFactory, Phone, record


@pytest.fixture
async def app(make_client: ClientFactory) -> Any:
    return await make_client(admin_token="admin-secret")


async def test_jion_subscribes_with_keyword_join(app: Any) -> None:
    reply = await Phone(app).text("JION")
    assert "Thanks for joining Acme Outfitters Alerts" in reply
    found = await record(app)
    assert (found["status"], found["opt_in_keyword"], found["opt_in_source"]) == (
        "subscribed",
        "JOIN",
        "JOIN",
    )
    assert found["keywords"][0]["keyword"] == "JOIN" and found["keywords"][0]["text"] == "JION"


async def test_shoes_records_its_source_and_adds_shoes_to_interests(app: Any) -> None:
    await Phone(app).text("shoes!")
    found = await record(app)
    assert found["opt_in_source"] == "in-store-shoe-display" and found["opt_in_keyword"] == "SHOES"
    assert found["properties"]["interests"] == ["shoes"]
    assert found["consent"][0]["source"] == "in-store-shoe-display"


async def test_vip_is_pending_until_yes_and_sets_vip_only_then(app: Any) -> None:
    phone = Phone(app)
    assert "Reply Y to confirm" in await phone.text("VIP")
    found = await record(app)
    assert found["status"] == "pending" and "vip" not in found["properties"]
    assert "Welcome to VIP, friend!" in await phone.text("YES")
    found = await record(app)
    assert found["status"] == "subscribed" and found["properties"]["vip"] is True
    assert [c["action"] for c in found["consent"]] == ["opt_in_requested", "opt_in_confirmed"]


async def test_unete_with_an_accent_records_spanish(app: Any) -> None:
    await Phone(app).text("ÚNETE")
    found = await record(app)
    assert (found["status"], found["language"], found["opt_in_keyword"]) == ("subscribed", "es", "UNETE")


async def test_events_from_a_subscriber_adds_events_once(app: Any) -> None:
    phone = Phone(app)
    await phone.text("SHOES")
    assert "in-store events" in await phone.text("events")
    await phone.text("EVENTS")
    assert (await record(app))["properties"]["interests"] == ["shoes", "events"]


async def test_a_preference_word_from_someone_not_subscribed_changes_nothing_and_says_how_to_join(
    app: Any,
) -> None:
    reply = await Phone(app).text("EVENTS")
    assert "Text JOIN to join" in reply
    found = await record(app)
    assert found["status"] == "new" and found["properties"] == {}
    assert found["keywords"][0]["keyword"] == "EVENTS"  # still recorded as texted


async def test_every_keyword_texted_is_recorded_not_only_the_first_opt_in(app: Any) -> None:
    phone = Phone(app)
    for word in ("JOIN", "SALES", "hello", "NEW", "shoes"):
        await phone.text(word)
    assert [k["keyword"] for k in (await record(app))["keywords"]] == ["JOIN", "SALES", "NEW", "SHOES"]


async def test_keyword_as_first_word_and_typos(app: Any) -> None:
    phone = Phone(app)
    await phone.text("joinn please")
    assert (await record(app))["opt_in_keyword"] == "JOIN"
    other = Phone(app, "+14155550124")
    await other.text("Shoess")
    assert (await record(app, "+14155550124"))["opt_in_keyword"] == "SHOES"


async def test_a_reply_with_the_phone_tag_says_the_subscribers_own_number(
    make_client: ClientFactory, keywords_copy: Path
) -> None:
    (keywords_copy / "extra.yaml").write_text(
        "keywords:\n  MYNUMBER:\n    type: preference\n"
        '    reply: "Acme: we have {{ phone }} on file. Reply STOP to opt out."\n'
    )
    load_program(keywords_copy)  # `smsbot check` passes it
    app = await make_client(keywords_dir=keywords_copy, admin_token="admin-secret")
    phone = Phone(app, "+14155550188")
    await phone.text("JOIN")
    assert await phone.text("MYNUMBER") == "Acme: we have +14155550188 on file. Reply STOP to opt out."
