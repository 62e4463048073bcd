"""The Flows page: each flow as a funnel, from the counts kept as runs move."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.store.schema import flow_runs
from tests.conftest import Phone, services_of
from tests.dashboard.test_overview import cells

ANA, BEN, CLEO = "+14155550101", "+14155550102", "+14155550103"


async def test_the_welcome_funnel_shows_who_reached_each_question_and_who_stopped_there(app: Any) -> None:
    for number in (ANA, BEN, CLEO):
        await Phone(app, number).text("JOIN")
    async with services_of(app).engine.connect() as conn:
        resting = (await conn.execute(select(flow_runs.c.step).distinct())).scalars().all()
    assert resting == [2]  # every run waits at the first question (the third step)
    await Phone(app, ANA).text("Ana")  # answers the first question: on to the birthday
    await Phone(app, CLEO).text("STOP")  # stops at the first question
    page = await (await app.get("/dashboard/flows")).text()
    welcome = page.split('data-flow="welcome"')[1].split("</section>")[0]
    assert cells(welcome, "started") == ["3"] and cells(welcome, "active") == ["2"]
    assert cells(welcome, "stopped") == ["1"] and cells(welcome, "completed") == ["0"]
    assert cells(welcome, 'data-step="3"') == ["ask", "3", "1", "0", "1"]
    assert cells(welcome, 'data-step="4"') == ["ask", "1", "0", "0", "0"]
    assert cells(welcome, 'data-step="1"') == ["send", "", "", "", "0"]


async def test_runs_resting_at_a_wait_are_counted_at_the_wait_not_the_step_after_it(app: Any) -> None:
    for number in (ANA, BEN):
        phone = Phone(app, number)
        for text in ("JOIN", "Ana", "04/23"):  # both questions answered: on to the day's wait
            await phone.text(text)
    async with services_of(app).engine.connect() as conn:
        resting = (await conn.execute(select(flow_runs.c.step, flow_runs.c.waiting).distinct())).all()
    assert [tuple(r) for r in resting] == [(5, False)]  # kept at the split after the wait, due later
    page = await (await app.get("/dashboard/flows")).text()
    welcome = page.split('data-flow="welcome"')[1].split("</section>")[0]
    assert cells(welcome, 'data-step="5"') == ["wait", "2", "", "", "0"]  # the wait: both rest there
    assert cells(welcome, 'data-step="4"') == ["ask", "2", "2", "0", "0"]
