"""With TWILIO_AUTH_TOKEN set, only calls signed over the public URL are accepted."""

from typing import Any

import pytest

from tests.conftest import ADMIN, PUBLIC_URL, TOKEN, ClientFactory, Phone, sign


@pytest.fixture
async def app(make_client: ClientFactory) -> Any:
    return await make_client(twilio_auth_token=TOKEN, public_url=PUBLIC_URL, admin_token="admin-secret")


async def nothing_recorded(app: Any) -> bool:
    response = await app.get("/api/subscribers/+14155550123", headers=ADMIN)
    return bool(response.status == 404)


async def test_signed_over_the_public_https_url_behind_a_proxy_is_accepted(app: Any) -> None:
    # The test server listens on http://127.0.0.1:<port>; Twilio signed https://sms.example.com.
    phone = Phone(app, token=TOKEN, public_url=PUBLIC_URL)
    assert "Thanks for joining" in await phone.text("JOIN")


async def test_missing_signature_is_refused_and_nothing_is_recorded(app: Any) -> None:
    phone = Phone(app)
    response = await phone.post(phone.form("JOIN"))
    assert response.status == 403
    assert await nothing_recorded(app)


@pytest.mark.parametrize(
    "forge",
    [
        lambda form: sign(f"{PUBLIC_URL}/twilio/sms", form, token="wrong-token"),
        lambda form: sign(f"{PUBLIC_URL}/twilio/sms", {**form, "Body": "STOP"}),  # body changed after signing
        lambda form: sign("http://127.0.0.1/twilio/sms", form),  # signed over the internal URL
        lambda form: sign(f"{PUBLIC_URL}/twilio/status", form),  # another endpoint's signature
        lambda form: "",
        lambda form: "not-base64!!",
    ],
)
async def test_forged_signatures_are_refused(app: Any, forge: Any) -> None:
    phone = Phone(app)
    form = phone.form("JOIN")
    response = await app.post("/twilio/sms", data=form, headers={"X-Twilio-Signature": forge(form)})
    assert response.status == 403
    assert await nothing_recorded(app)


async def test_status_callbacks_need_a_signature_too(app: Any) -> None:
    response = await app.post(
        "/twilio/status?ref=x", data={"MessageSid": "SM1", "MessageStatus": "delivered"}
    )
    assert response.status == 403


async def test_without_public_url_the_url_as_received_is_checked(make_client: ClientFactory) -> None:
    app = await make_client(twilio_auth_token=TOKEN, public_url=None)
    base = f"http://{app.host}:{app.port}"
    phone = Phone(app, token=TOKEN, public_url=base)
    assert "Thanks for joining" in await phone.text("JOIN")
    forged = Phone(app, token=TOKEN, public_url=PUBLIC_URL)
    assert (await forged.post(forged.form("JOIN"))).status == 403
