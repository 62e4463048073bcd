"""The Twilio sender against a local server that speaks Twilio's Messages API."""

import pytest

from bot.channels.base import OutboundMessage
from bot.channels.dryrun import DryRunSender
from bot.channels.twilio.sender import TwilioSender
from tests.conftest import ACCOUNT_SID, TOKEN
from tests.fake_twilio import FakeTwilio

ACCOUNT = ACCOUNT_SID


@pytest.fixture
def twilio(twilio_api: tuple[FakeTwilio, str]) -> tuple[FakeTwilio, str]:
    return twilio_api


def message(**changes: object) -> OutboundMessage:
    base = {"ref": "SMabc.0", "to": "+14155550123", "body": "Acme: hello"}
    return OutboundMessage(**{**base, **changes})  # type: ignore[arg-type]


async def test_a_message_goes_out_through_the_sdk_with_everything_it_needs(
    twilio: tuple[FakeTwilio, str],
) -> None:
    fake, url = twilio
    sender = TwilioSender(
        ACCOUNT, TOKEN, from_number="+15005550006", api_url=url, public_url="https://sms.example.com"
    )
    card, logo = "https://sms.example.com/vcards/acme.vcf", "https://sms.example.com/logo.png"
    result = await sender.send(message(media_urls=(card, logo)))
    await sender.close()
    assert result.sid is not None and result.sid.startswith("SM") and result.status == "queued"
    [sent] = fake.received
    assert sent["To"] == "+14155550123" and sent["From"] == "+15005550006" and sent["Body"] == "Acme: hello"
    assert sent["MediaUrl"] == [card, logo]  # the form's repeated key, in order
    assert sent["StatusCallback"] == "https://sms.example.com/twilio/status?ref=SMabc.0"


async def test_a_messaging_service_can_send_instead_of_a_number(twilio: tuple[FakeTwilio, str]) -> None:
    fake, url = twilio
    sender = TwilioSender(ACCOUNT, TOKEN, messaging_service_sid="MG" + "2" * 32, api_url=url)
    result = await sender.send(message())
    await sender.close()
    assert result.status == "accepted" and fake.received[0]["MessagingServiceSid"] == "MG" + "2" * 32
    assert "From" not in fake.received[0]


async def test_a_number_that_opted_out_at_the_carrier_is_reported_as_21610(
    twilio: tuple[FakeTwilio, str],
) -> None:
    fake, url = twilio
    fake.opted_out.add("+14155550123")
    sender = TwilioSender(ACCOUNT, TOKEN, from_number="+15005550006", api_url=url)
    result = await sender.send(message())
    await sender.close()
    assert (result.status, result.error_code, result.opted_out, result.retry) == (
        "failed",
        21610,
        True,
        False,
    )


@pytest.mark.parametrize(("status", "retry"), [(429, True), (500, True), (503, True)])
async def test_temporary_failures_are_marked_for_retry(
    twilio: tuple[FakeTwilio, str], status: int, retry: bool
) -> None:
    fake, url = twilio
    fake.fail_next.append(status)
    sender = TwilioSender(ACCOUNT, TOKEN, from_number="+15005550006", api_url=url)
    first = await sender.send(message())
    second = await sender.send(message())
    await sender.close()
    assert (first.status, first.retry) == ("failed", retry)
    assert second.status == "queued"


async def test_wrong_credentials_are_a_failure_not_a_retry(twilio: tuple[FakeTwilio, str]) -> None:
    _, url = twilio
    sender = TwilioSender(ACCOUNT, "wrong", from_number="+15005550006", api_url=url)
    result = await sender.send(message())
    await sender.close()
    assert (result.status, result.error_code, result.retry) == ("failed", 20003, False)


async def test_an_unreachable_provider_is_a_retry() -> None:
    sender = TwilioSender(ACCOUNT, TOKEN, from_number="+15005550006", api_url="http://127.0.0.1:1", timeout=2)
    result = await sender.send(message())
    await sender.close()
    assert (result.status, result.retry) == ("failed", True)


def test_a_sender_needs_a_number_or_a_service() -> None:
    with pytest.raises(ValueError, match="Messaging Service"):
        TwilioSender(ACCOUNT, TOKEN)


async def test_the_dry_run_records_and_sends_nothing() -> None:
    sender = DryRunSender()
    result = await sender.send(message())
    assert result.status == "simulated" and result.sid and sender.sent == [message()]
    assert (await sender.send(message())).sid == result.sid  # the same ref, the same simulated sid


async def test_recent_lists_what_the_carrier_took_for_a_number_newest_first(
    twilio: tuple[FakeTwilio, str],
) -> None:
    _fake, url = twilio
    sender = TwilioSender(ACCOUNT, TOKEN, from_number="+15005550006", api_url=url)
    first = await sender.send(message(body="one"))
    await sender.send(message(to="+14155550199", body="elsewhere"))
    second = await sender.send(message(body="two"))
    found = await sender.recent("+14155550123")
    await sender.close()
    assert [(m.sid, m.body) for m in found] == [(second.sid, "two"), (first.sid, "one")]
    assert all(m.created is not None for m in found)


async def test_an_api_that_does_not_answer_in_time_is_unknown_not_failed(
    twilio: tuple[FakeTwilio, str],
) -> None:
    fake, url = twilio
    fake.delay = 2.0  # it takes the message, then answers too late
    sender = TwilioSender(ACCOUNT, TOKEN, from_number="+15005550006", api_url=url, timeout=0.3)
    result = await sender.send(message())
    await sender.close()
    assert (result.sid, result.unknown, result.retry) == (None, True, False)
    assert len(fake.accepted()) == 1  # which is why it must be looked up, not sent again
