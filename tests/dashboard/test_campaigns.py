"""Campaigns from the dashboard: sent, paused and cancelled with the API's own rules, each action in
the audit log; a refused action says why and changes nothing."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, insert, select

from bot.store.rows import new_subscriber
from bot.store.schema import audit_log, campaign_recipients, campaigns, subscribers
from tests.conftest import ClientFactory, services_of
from tests.dashboard.test_auth import PASSWORD, log_in


@pytest.fixture
async def app(make_client: ClientFactory) -> Any:
    client = await make_client(dashboard_password=PASSWORD)
    row = {**new_subscriber("+14155550123", datetime.now(UTC)), "status": "subscribed", "language": "es"}
    async with services_of(client).engine.begin() as conn:
        await conn.execute(insert(subscribers), [row])
    await log_in(client)
    return client


async def csrf(app: Any, path: str = "/dashboard/campaigns/ofertas_de_invierno") -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', await (await app.get(path)).text())
    assert found is not None
    return found.group(1)


async def act(app: Any, action: str) -> Any:
    path = "/dashboard/campaigns/ofertas_de_invierno"
    return await app.post(f"{path}/{action}", data={"csrf": await csrf(app)}, allow_redirects=False)


async def test_send_pause_and_cancel_from_the_page_each_in_the_audit_log(app: Any) -> None:
    page = "/dashboard/campaigns/ofertas_de_invierno"
    assert (await act(app, "send")).status == 302
    sending = await (await app.get(page)).text()
    assert 'id="pause"' in sending and 'id="cancel"' in sending and 'id="resume"' not in sending
    assert '<meta http-equiv="refresh" content="5">' in sending  # its progress, live
    assert (await act(app, "pause")).status == 302
    paused = await (await app.get(page)).text()
    assert 'id="resume"' in paused and 'http-equiv="refresh"' not in paused
    assert (await act(app, "cancel")).status == 302
    assert 'class="actions"' not in await (await app.get(page)).text()  # nothing left to do
    async with services_of(app).engine.connect() as conn:
        status = (await conn.execute(select(campaigns.c.status))).scalar_one()
        done = [(r.action, r.detail) for r in await conn.execute(select(audit_log).order_by(audit_log.c.id))]
    assert status == "cancelled"
    assert done[1:] == [(f"campaign_{a}", "ofertas_de_invierno") for a in ("send", "pause", "cancel")]


async def test_sending_twice_is_refused_with_the_reason_and_sends_nothing_again(app: Any) -> None:
    await act(app, "send")
    again = await act(app, "send")
    assert again.status == 409 and "already sent" in await again.text()
    async with services_of(app).engine.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(campaigns))).scalar_one() == 1


async def test_an_unknown_campaign_or_action_is_a_404(app: Any) -> None:
    assert (await app.get("/dashboard/campaigns/nothing")).status == 404
    token = await csrf(app)
    response = await app.post("/dashboard/campaigns/ofertas_de_invierno/explode", data={"csrf": token})
    assert response.status == 404


AB = """
campaigns:
  winter_test:
    segment: all_subscribers
    message: 'Acme: winter sale, variant A. Reply STOP to opt out'
    smart_sending: false
    test:
      variants:
        b: {message: 'Acme: winter boots, variant B. Reply STOP to opt out'}
      share: 50
      wait: 4h
"""


async def test_an_ab_tests_variants_show_side_by_side_and_its_winner_is_picked_from_the_page(
    make_client: ClientFactory, keywords_copy: Any
) -> None:
    (keywords_copy / "ab.yaml").write_text(AB)
    app = await make_client(dashboard_password=PASSWORD, keywords_dir=keywords_copy)
    now = datetime.now(UTC)
    people = [{**new_subscriber(f"+1415555{n:04d}", now), "status": "subscribed"} for n in range(10)]
    async with services_of(app).engine.begin() as conn:
        await conn.execute(insert(subscribers), people)
    await log_in(app)
    page = "/dashboard/campaigns/winter_test"
    before = await (await app.get(page)).text()
    assert "variant A" in before and "variant B" in before and "5 tested" in before
    await app.post(f"{page}/send", data={"csrf": await csrf(app, page)}, allow_redirects=False)
    sending = await (await app.get(page)).text()
    assert 'data-variant="a"' in sending and 'data-variant="b"' in sending and 'id="winner-b"' in sending
    picked = await app.post(
        f"{page}/winner", data={"csrf": await csrf(app, page), "variant": "b"}, allow_redirects=False
    )
    assert picked.status == 302
    after = await (await app.get(page)).text()
    assert '<strong id="winner">b</strong>' in after and 'id="winner-b"' not in after
    async with services_of(app).engine.connect() as conn:
        actions = [r.action for r in await conn.execute(select(audit_log).order_by(audit_log.c.id))]
        rest = await conn.scalar(
            select(func.count())
            .select_from(campaign_recipients)
            .where(campaign_recipients.c.status == "waiting")
        )
    assert actions[-1] == "campaign_winner" and rest == 0
