"""A subscriber's data on request (GDPR Art. 15): everything held about the number in one JSON
document, from the admin API, the dashboard and the command line; each hand-out in the audit log."""

import json
import re
from typing import Any

import pytest
from sqlalchemy import select

from bot.pipeline.subscriber_export import holding_tables
from bot.store.schema import audit_log
from tests.conftest import ADMIN, ADMIN_TOKEN, ClientFactory, Phone, services_of
from tests.dashboard.test_auth import PASSWORD, log_in

EVENTS = {"Authorization": "Bearer events-secret"}
ANA = "+14155550123"


@pytest.fixture
async def app(make_client: ClientFactory) -> Any:
    app = await make_client(
        admin_token=ADMIN_TOKEN, events_token="events-secret", dashboard_password=PASSWORD
    )
    order = {
        "id": "evt-1",
        "phone": ANA,
        "type": "order_placed",
        "occurred_at": "2026-11-20T10:00:00Z",  # an order from before they joined: theirs too
        "properties": {"order_id": 2003, "total_price": "59.00", "currency": "USD"},
    }
    assert (await app.post("/api/events", json={"events": [order]}, headers=EVENTS)).status == 200
    for body in ("JOIN", "Ana", "SHOES"):
        await Phone(app, ANA).text(body)
    await Phone(app, "+14155550199").text("JOIN")  # someone else: never in Ana's export
    return app


async def audit(app: Any) -> list[tuple[str, str | None]]:
    async with services_of(app).engine.connect() as conn:
        rows = await conn.execute(select(audit_log.c.action, audit_log.c.detail).order_by(audit_log.c.id))
        return [(r.action, r.detail) for r in rows]


async def test_the_export_holds_every_table_that_holds_the_number(app: Any) -> None:
    response = await app.get(f"/api/subscribers/{ANA}/export", headers=ADMIN)
    assert response.status == 200
    assert response.headers["Content-Disposition"].startswith('attachment; filename="_14155550123.json"')
    document = json.loads(await response.text())
    assert set(document) == {"format", "phone", "exported_at", "subscriber"} | {
        t.name for t in holding_tables()
    }
    assert document["subscriber"]["phone"] == ANA and document["subscriber"]["status"] == "subscribed"
    assert document["subscriber"]["properties"]["first_name"] == "Ana"
    assert [m["body"] for m in document["messages"] if m["direction"] == "inbound"] == [
        "JOIN",
        "Ana",
        "SHOES",
    ]
    assert [c["action"] for c in document["consent_events"]] == ["opt_in"]
    assert {k["keyword"] for k in document["keyword_events"]} == {"JOIN", "SHOES"}
    assert [e["external_id"] for e in document["store_events"]] == ["evt-1"]
    assert [r["flow"] for r in document["flow_runs"]] == ["welcome"]
    assert "+14155550199" not in json.dumps(document)
    assert await audit(app) == [("subscriber_export", "+14*******23")]


async def test_a_number_held_nowhere_is_a_404_and_the_token_is_required(app: Any) -> None:
    assert (await app.get("/api/subscribers/+14155550100/export", headers=ADMIN)).status == 404
    assert (await app.get(f"/api/subscribers/{ANA}/export")).status == 401
    assert await audit(app) == []


async def test_the_dashboard_hands_it_out_from_the_subscribers_page(app: Any) -> None:
    await log_in(app)
    page = await (await app.get("/dashboard/subscribers", params={"phone": ANA})).text()
    token = re.search(r'name="csrf" value="([^"]+)"', page)
    assert token is not None and 'action="/dashboard/subscribers/export"' in page
    refused = await app.post("/dashboard/subscribers/export", data={"phone": ANA})
    assert refused.status == 403  # no CSRF token: nothing handed out
    response = await app.post("/dashboard/subscribers/export", data={"phone": ANA, "csrf": token.group(1)})
    assert response.status == 200
    assert json.loads(await response.text())["subscriber"]["phone"] == ANA
    assert [a for a in await audit(app) if a[0] == "subscriber_export"] == [
        ("subscriber_export", "+14*******23")
    ]
