from typing import Any

import pytest

from bot.store.db import create_engine
from tests.conftest import ClientFactory, Phone, services_of


@pytest.fixture
async def app(make_client: ClientFactory) -> Any:
    return await make_client(admin_token="admin-secret")


async def test_admin_api_needs_the_bearer_token(app: Any) -> None:
    await Phone(app).text("JOIN")
    assert (await app.get("/api/subscribers/+14155550123")).status == 401
    assert (
        await app.get("/api/subscribers/+14155550123", headers={"Authorization": "Bearer nope"})
    ).status == 401
    assert (
        await app.get("/api/subscribers/+14155550123", headers={"Authorization": "Basic admin-secret"})
    ).status == 401
    ok = await app.get("/api/subscribers/+14155550123", headers={"Authorization": "Bearer admin-secret"})
    assert ok.status == 200


async def test_admin_api_is_off_without_a_token(make_client: ClientFactory) -> None:
    app = await make_client(admin_token=None)
    response = await app.get("/api/subscribers/+14155550123", headers={"Authorization": "Bearer "})
    assert response.status == 401 and "SMSBOT_ADMIN_TOKEN" in await response.text()


async def test_unknown_number_is_404_and_a_non_number_is_400(app: Any) -> None:
    auth = {"Authorization": "Bearer admin-secret"}
    assert (await app.get("/api/subscribers/+14155550000", headers=auth)).status == 404
    assert (await app.get("/api/subscribers/+14155550000/messages", headers=auth)).status == 404
    assert (await app.get("/api/subscribers/hello", headers=auth)).status == 400


async def test_subscriber_can_be_looked_up_without_the_plus(app: Any) -> None:
    await Phone(app).text("JOIN")
    response = await app.get("/api/subscribers/14155550123", headers={"Authorization": "Bearer admin-secret"})
    assert (await response.json())["phone"] == "+14155550123"


async def test_subscriber_record_has_every_documented_field(app: Any) -> None:
    await Phone(app).text("JOIN")
    body = await (
        await app.get("/api/subscribers/+14155550123", headers={"Authorization": "Bearer admin-secret"})
    ).json()
    assert set(body) >= {
        "phone",
        "status",
        "language",
        "opt_in_source",
        "opt_in_keyword",
        "properties",
        "created_at",
        "subscribed_at",
        "unsubscribed_at",
        "consent",
    }
    assert set(body["consent"][0]) >= {"action", "keyword", "text", "message_sid", "at"}
    listing = await (
        await app.get(
            "/api/subscribers/+14155550123/messages", headers={"Authorization": "Bearer admin-secret"}
        )
    ).json()
    assert set(listing["messages"][0]) >= {"direction", "body", "media_urls", "sid", "status", "at"}


async def test_healthz_checks_database_and_redis(app: Any) -> None:
    response = await app.get("/healthz")
    assert response.status == 200
    assert (await response.json())["checks"] == {"database": "ok", "redis": "ok"}


async def test_healthz_names_redis_when_it_is_down(make_client: ClientFactory) -> None:
    app = await make_client(redis_url="redis://127.0.0.1:1/0")  # nothing listens on port 1
    response = await app.get("/healthz")
    assert response.status == 503
    body = await response.json()
    assert body["down"] == ["redis"] and body["checks"]["database"] == "ok"


async def test_messages_are_still_taken_exactly_once_while_redis_is_down(make_client: ClientFactory) -> None:
    app = await make_client(redis_url="redis://127.0.0.1:1/0", admin_token="admin-secret")
    phone = Phone(app)
    form = phone.form("JOIN")
    first = await phone.post(form)
    again = await phone.post(form)
    assert first.status == again.status == 200
    assert await first.text() == await again.text()
    record = await (
        await app.get("/api/subscribers/+14155550123", headers={"Authorization": "Bearer admin-secret"})
    ).json()
    assert len(record["consent"]) == 1


async def test_healthz_names_the_database_when_it_is_down(make_client: ClientFactory) -> None:
    app = await make_client()
    services = services_of(app)
    await services.engine.dispose()
    services.services.engine = create_engine(
        "postgresql://nobody@127.0.0.1:1/none"
    )  # nothing listens on port 1
    response = await app.get("/healthz")
    assert response.status == 503
    assert (await response.json())["down"] == ["database"]
