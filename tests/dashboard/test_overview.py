"""The Overview over a period: list growth, opt-ins by keyword and source, the opt-out rate, from
the counts kept as texts arrive; a period it cannot show is explained, never a server error."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.conftest import Phone


def cells(page: str, marked: str) -> list[str]:
    """The text of each cell of the element whose opening tag holds `marked` (a row, or a lone cell)."""
    found = re.search(rf"<(tr|dd|td)[^>]*{marked}[^>]*>(.*?)</\1>", page, re.S)
    assert found is not None, marked
    inner = found.group(2)
    parts = re.findall(r"<td[^>]*>(.*?)</td>", inner, re.S) if found.group(1) == "tr" else [inner]
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in parts]


def figure(page: str, name: str) -> list[str]:
    """The cells of the figures table's row `name`."""
    return cells(page, f'data-figure="{name}"')


async def test_the_overview_counts_this_periods_joins_and_opt_outs(app: Any) -> None:
    for number in ("+14155550101", "+14155550102", "+14155550103"):
        await Phone(app, number).text("JOIN")
    await Phone(app, "+14155550104").text("JION")
    await Phone(app, "+14155550103").text("STOP")
    page = await (await app.get("/dashboard", params={"period": "7"})).text()
    assert figure(page, "joined")[:3] == ["4", "0", "new"]
    assert figure(page, "left")[0] == "1" and figure(page, "net")[0] == "3"
    assert re.search(r'data-keyword="JOIN"><th scope="row">JOIN</th><td>4</td>', page)
    assert re.search(r'data-source="JOIN"><th scope="row">JOIN</th><td>4</td>', page)
    assert figure(page, "opt_out_rate")[0] == "—"  # no campaign or flow message sent yet: no rate
    assert '<canvas id="growth"' in page and 'id="chart-data">{"labels"' in page
    assert '<td data-status="subscribed">3</td>' in page


async def test_grouped_by_week_and_a_custom_period(app: Any) -> None:
    await Phone(app, "+14155550101").text("JOIN")
    weekly = await app.get("/dashboard", params={"period": "90", "by": "week"})
    assert weekly.status == 200 and figure(await weekly.text(), "joined")[0] == "1"
    old = await app.get("/dashboard", params={"period": "custom", "start": "2020-01-01", "end": "2020-01-31"})
    assert old.status == 200 and figure(await old.text(), "joined")[0] == "0"


@pytest.mark.parametrize(
    "query",
    [
        {"period": "custom", "start": "2026-02-30", "end": "2026-03-01"},
        {"period": "custom", "start": "2026-03-01", "end": "2026-02-01"},
        {"period": "forever"},
        {"by": "<script>"},
    ],
)
async def test_a_period_it_cannot_show_is_explained(app: Any, query: dict[str, str]) -> None:
    response = await app.get("/dashboard", params=query)
    page = await response.text()
    assert response.status == 200 and 'role="alert"' in page and "<script>" not in page.split("<main>")[1]


async def test_what_the_gate_held_back_is_counted_by_why(app: Any) -> None:
    from datetime import UTC, datetime

    from sqlalchemy import select

    from bot.store.rows import outbox_message
    from bot.store.schema import messages, subscribers
    from tests.conftest import services_of

    await Phone(app, "+14155550101").text("JOIN")
    now = datetime.now(UTC)
    async with services_of(app).engine.begin() as conn:
        ana = await conn.scalar(select(subscribers.c.id).where(subscribers.c.phone == "+14155550101"))
        assert ana is not None
        queued = outbox_message(ana, "test.1", "Acme: a sale", (), None, now, now, now)
        await conn.execute(messages.insert(), [queued])
    await Phone(app, "+14155550101").text("STOP")
    async with services_of(app).engine.connect() as conn:
        held = (await conn.execute(select(messages).where(messages.c.ref == "test.1"))).one()
    assert (held.status, held.reason) == ("cancelled", "opted_out")
    page = await (await app.get("/dashboard", params={"period": "7"})).text()
    assert cells(page, 'data-reason="opted_out"') == ["1"]
    assert "opted out before it went" in page
