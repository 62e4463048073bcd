"""GET /metrics on the app: not served without its token set, refused without the token, and
counting the webhook's texts when asked with it."""

from typing import Any

from tests.conftest import ACCOUNT_SID, PUBLIC_URL, TOKEN, ClientFactory, Phone

SECRET = "metrics-secret-0123"


async def test_without_a_token_set_there_are_no_metrics_to_find(make_client: ClientFactory) -> None:
    app = await make_client()
    assert (await app.get("/metrics")).status == 404


async def test_only_the_metrics_token_reads_them_and_they_count_the_texts(make_client: ClientFactory) -> None:
    app: Any = await make_client(metrics_token=SECRET, twilio_auth_token=TOKEN, public_url=PUBLIC_URL)
    assert (await app.get("/metrics")).status == 401
    assert (await app.get("/metrics", headers={"Authorization": "Bearer admin"})).status == 401

    async def texts() -> float:
        answer = await app.get("/metrics", headers={"Authorization": f"Bearer {SECRET}"})
        assert answer.status == 200 and answer.headers["Content-Type"].startswith("text/plain")
        body = await answer.text()
        assert "+1415" not in body  # never a number
        found = [
            line
            for line in body.splitlines()
            if line.startswith('smsbot_inbound_messages_total{intent="help"')
        ]
        return sum(float(line.rsplit(" ", 1)[1]) for line in found)

    before = await texts()
    await Phone(app, "+14155550199", token=TOKEN, public_url=PUBLIC_URL).text("HELP")
    assert await texts() == before + 1


async def test_a_carrier_error_reported_by_callback_is_counted_by_its_code(
    make_client: ClientFactory,
) -> None:
    app: Any = await make_client(metrics_token=SECRET, twilio_auth_token=TOKEN, public_url=PUBLIC_URL)
    headers = {"Authorization": f"Bearer {SECRET}"}

    async def filtered() -> float:
        body = await (await app.get("/metrics", headers=headers)).text()
        found = [
            line for line in body.splitlines() if line.startswith('smsbot_carrier_errors_total{code="30007"}')
        ]
        return sum(float(line.rsplit(" ", 1)[1]) for line in found)

    before = await filtered()
    report = {"MessageSid": "SM" + "f" * 32, "MessageStatus": "undelivered", "ErrorCode": "30007"}
    answer = await Phone(app, "+14155550199", token=TOKEN, public_url=PUBLIC_URL).post(
        {**report, "AccountSid": ACCOUNT_SID}, "/twilio/status?ref=nothing.0"
    )
    assert answer.status == 200
    assert await filtered() == before + 1
