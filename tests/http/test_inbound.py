"""The inbound webhook end to end: real app, real Redis, real database."""

import asyncio
import xml.etree.ElementTree as ET
from typing import Any

import pytest

from tests.conftest import (
    ADMIN,
    PUBLIC_URL,
    TOKEN,
    ClientFactory,
    Phone,
    messages,
    new_sid,
    record,
    replies_of,
)


@pytest.fixture
async def app(make_client: ClientFactory) -> Any:
    return await make_client(admin_token="admin-secret")


async def test_join_subscribes_records_the_opt_in_source_and_confirms(app: Any) -> None:
    phone = Phone(app)
    reply = await phone.text("JOIN")
    assert "Thanks for joining Acme Outfitters Alerts" in reply
    found = await record(app)
    assert found["status"] == "subscribed"
    assert (found["opt_in_source"], found["opt_in_keyword"]) == ("JOIN", "JOIN")
    assert found["subscribed_at"] and found["created_at"]
    [consent] = found["consent"]
    assert consent["action"] == "opt_in" and consent["keyword"] == "JOIN" and consent["text"] == "JOIN"
    assert consent["message_sid"].startswith("SM") and consent["at"]


async def test_every_message_is_kept_both_ways_with_its_sid(app: Any) -> None:
    phone = Phone(app)
    sid = new_sid()
    await phone.text("SHOES", sid=sid)  # SHOES starts no flow: one reply
    await phone.text("what's new?")
    kept = await messages(app)
    assert [(m["direction"], m["status"]) for m in kept] == [
        ("inbound", "received"),
        ("outbound", "queued"),
        ("inbound", "received"),
        ("outbound", "queued"),
    ]
    assert kept[0]["sid"] == sid and kept[0]["body"] == "SHOES"
    assert kept[1]["ref"] == f"{sid}.0"


async def test_stop_then_silence_then_help_then_start(app: Any) -> None:
    phone = Phone(app)
    await phone.text("JOIN")
    assert "unsubscribed" in await phone.text("STOP")
    assert await phone.text("STOP") == ""
    assert await phone.text("any deals?") == ""
    assert "help@acme.example" in await phone.text("HELP")
    assert "subscribed to Acme Outfitters Alerts again" in await phone.text("START")
    found = await record(app)
    assert found["status"] == "subscribed"
    assert [c["action"] for c in found["consent"]] == ["opt_in", "opt_out", "opt_in"]
    assert found["unsubscribed_at"] is not None
    # inbound from an unsubscribed number is still recorded
    assert [m["body"] for m in await messages(app) if m["direction"] == "inbound"] == [
        "JOIN",
        "STOP",
        "STOP",
        "any deals?",
        "HELP",
        "START",
    ]


@pytest.mark.parametrize("status_word", ["new", "subscribed", "unsubscribed"])
async def test_help_is_answered_in_every_status(app: Any, status_word: str) -> None:
    phone = Phone(app)
    if status_word != "new":
        await phone.text("JOIN")
    if status_word == "unsubscribed":
        await phone.text("STOP")
    reply = await phone.text("help")
    assert "Acme Outfitters Alerts" in reply and "Msg&data rates may apply" in reply and "STOP" in reply
    assert (await record(app))["status"] == status_word


@pytest.mark.parametrize(
    "words",
    [
        "STOP",
        "stopall",
        "unsubscribe",
        "cancel",
        "end",
        "quit",
        "revoke",
        "optout",
        "opt out",
        "stop please",
        "please stop texting me",
        "unsubscribe me",
        "Let me out of this list",  # no rule reads it: the model does
        "⛔",
    ],
)
async def test_each_opt_out_word_and_sentence_unsubscribes_through_the_webhook(app: Any, words: str) -> None:
    phone = Phone(app)
    await phone.text("JOIN")
    assert "unsubscribed" in await phone.text(words)
    assert (await record(app))["status"] == "unsubscribed"


async def test_dont_stop_the_deals_does_not_unsubscribe(app: Any) -> None:
    phone = Phone(app)
    await phone.text("JOIN")
    await phone.text("don't stop the deals")
    assert (await record(app))["status"] == "subscribed"


async def test_a_request_the_model_doubts_is_asked_about_not_honoured(app: Any) -> None:
    phone = Phone(app)
    await phone.text("JOIN")
    answer = await phone.text("Don't text me the tracking, email it please")
    assert "Reply STOP to stop getting texts" in answer
    assert (await record(app))["status"] == "subscribed"


async def test_carrier_opt_out_type_is_obeyed(app: Any) -> None:
    phone = Phone(app)
    await phone.text("JOIN")
    await phone.text("Arrêtez", OptOutType="STOP")
    assert (await record(app))["status"] == "unsubscribed"


async def test_carrier_confirmations_setting_sends_no_stop_confirmation(make_client: ClientFactory) -> None:
    app = await make_client(admin_token="admin-secret", carrier_sends_confirmations=True)
    phone = Phone(app)
    await phone.text("JOIN")
    assert await phone.text("STOP") == ""
    assert (await record(app))["status"] == "unsubscribed"


async def test_reply_carries_a_status_callback_that_updates_the_message(make_client: ClientFactory) -> None:
    app = await make_client(admin_token="admin-secret", twilio_auth_token=TOKEN, public_url=PUBLIC_URL)
    phone = Phone(app, token=TOKEN, public_url=PUBLIC_URL)
    response = await phone.post(phone.form("SHOES"))
    message = ET.fromstring(await response.text()).find("Message")
    assert message is not None
    action = message.get("action")
    assert action is not None and action.startswith(f"{PUBLIC_URL}/twilio/status?ref=SM")
    path = action.removeprefix(PUBLIC_URL)
    for status in ("sent", "delivered", "sent"):  # a late "sent" must not undo "delivered"
        callback = {"MessageSid": "SMreply0001", "MessageStatus": status, "AccountSid": "AC1"}
        done = await phone.post(callback, path=path)
        assert done.status == 200
    [_, reply] = await messages(app)
    assert (reply["sid"], reply["status"]) == ("SMreply0001", "delivered")
    failed = {"MessageSid": "SMreply0001", "MessageStatus": "failed", "ErrorCode": "30003"}
    assert (await phone.post(failed, path=path)).status == 200
    [_, reply] = await messages(app)
    assert (reply["status"], reply["error_code"]) == ("failed", 30003)


async def test_a_duplicate_message_sid_is_stored_once_and_gets_the_same_reply(app: Any) -> None:
    phone = Phone(app)
    form = phone.form("SHOES")
    first = await phone.post(form)
    second = await phone.post(form)
    assert first.status == second.status == 200
    assert await first.text() == await second.text()
    found = await record(app)
    assert len(found["consent"]) == 1
    assert len(await messages(app)) == 2


async def test_a_duplicate_after_redis_forgot_is_still_stored_once(app: Any, settings: Any) -> None:
    import redis.asyncio as aioredis

    phone = Phone(app)
    form = phone.form("STOP")
    await phone.text("JOIN")
    first = await (await phone.post(form)).text()
    client = aioredis.Redis.from_url(settings.redis_url)
    keys = [k async for k in client.scan_iter(match=f"{settings.redis_prefix}*")]
    assert keys, "the claim should have been in Redis"
    await client.delete(*keys)
    await client.aclose()
    again = await (await phone.post(form)).text()
    assert again == first  # rebuilt from the database, byte for byte
    assert [c["action"] for c in (await record(app))["consent"]] == ["opt_in", "opt_out"]
    assert len([m for m in await messages(app) if m["direction"] == "inbound"]) == 2


async def test_concurrent_duplicate_deliveries_apply_once(app: Any) -> None:
    phone = Phone(app)
    form = phone.form("JOIN")
    responses = await asyncio.gather(*(phone.post(form) for _ in range(10)))
    bodies = {await r.text() for r in responses}
    assert all(r.status == 200 for r in responses) and len(bodies) == 1
    assert len((await record(app))["consent"]) == 1


async def test_thirty_concurrent_messages_from_one_number_are_applied_one_after_another(app: Any) -> None:
    phone = Phone(app)
    bodies = ["JOIN" if i % 2 == 0 else "STOP" for i in range(30)]
    responses = await asyncio.gather(*(phone.post(phone.form(b)) for b in bodies))
    assert all(r.status == 200 for r in responses)
    consent = (await record(app))["consent"]
    # No lost update: every consent record starts where the previous one ended.
    status = "new"
    for entry in consent:
        assert entry["from_status"] == status, consent
        status = entry["to_status"]
    assert (await record(app))["status"] == status
    assert len([m for m in await messages(app) if m["direction"] == "inbound"]) == 30


async def test_concurrent_messages_from_many_numbers(app: Any) -> None:
    phones = [Phone(app, f"+1415555{i:04d}") for i in range(40)]
    replies = await asyncio.gather(*(p.text("JOIN") for p in phones))
    assert all("Thanks for joining" in r for r in replies)
    for p in phones[:5]:
        assert (await record(app, p.number))["status"] == "subscribed"


@pytest.mark.parametrize(
    "body",
    [
        "",
        "x" * 1600,
        "🎉👟🔥" * 200,
        "JOIN\x00\x01\x02\x07",
        "line one\r\nline two\ttab",
        "\u202eright-to-left",
        "ＪＯＩＮ",
        "a" * 5000,
    ],
)
async def test_odd_bodies_are_handled_and_recorded(app: Any, body: str) -> None:
    phone = Phone(app)
    response = await phone.post(phone.form(body))
    assert response.status == 200
    [kept, *_] = await messages(app)
    assert kept["body"] == body.replace("\x00", "\ufffd")


async def test_media_only_message_is_recorded_with_its_media(app: Any) -> None:
    phone = Phone(app)
    form = phone.form(
        "",
        NumMedia="2",
        MediaUrl0="https://media.example/a.jpg",
        MediaContentType0="image/jpeg",
        MediaUrl1="https://media.example/b.png",
        MediaContentType1="image/png",
    )
    assert (await phone.post(form)).status == 200
    [kept, *_] = await messages(app)
    assert kept["media_urls"] == ["https://media.example/a.jpg", "https://media.example/b.png"]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"From": ""}, "From is missing"),
        ({"MessageSid": ""}, "MessageSid is missing"),
        ({"From": "not a phone"}, "E.164"),
        ({"From": "+1415"}, "E.164 form"),
        ({"MessageSid": "SM<script>"}, "MessageSid is malformed"),
        ({"NumMedia": "lots"}, "NumMedia"),
    ],
)
async def test_bad_input_gets_a_4xx_with_a_reason_and_nothing_is_recorded(
    app: Any, change: dict[str, str], reason: str
) -> None:
    phone = Phone(app)
    form = {**phone.form("JOIN"), **change}
    response = await phone.post(form)
    assert response.status == 400
    assert reason in await response.text()
    assert (await app.get("/api/subscribers/+14155550123", headers=ADMIN)).status == 404


async def test_undecodable_body_is_a_400_not_a_500(app: Any) -> None:
    response = await app.post(
        "/twilio/sms",
        data=b"MessageSid=SM1&From=%2B14155550123&Body=%FF%FE",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status == 400
    assert "UTF-8" in await response.text()
    response = await app.post(
        "/twilio/sms",
        data=b"\xff\xfe\x00garbage",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status == 400


async def test_phone_numbers_are_stored_in_e164(app: Any) -> None:
    phone = Phone(app, "+1 (415) 555-0199")
    await phone.text("JOIN")
    assert (await record(app, "+14155550199"))["phone"] == "+14155550199"


def test_replies_of_reads_twiml() -> None:
    assert (
        replies_of('<?xml version="1.0"?><Response><Message>a</Message><Message>b</Message></Response>')
        == "a\nb"
    )
