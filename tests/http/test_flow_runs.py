"""Flow runs are started and cancelled inside the inbound transaction; the database keeps one per flow."""

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from bot.store import db
from bot.store.schema import flow_runs
from tests.conftest import ADMIN_TOKEN, ClientFactory, Phone, record


@pytest.fixture
async def app(make_client: ClientFactory) -> Any:
    return await make_client(admin_token=ADMIN_TOKEN)


async def test_join_starts_the_welcome_flow_once(app: Any) -> None:
    phone = Phone(app)
    await phone.text("JOIN")
    await phone.text("join")  # already subscribed: no second run
    [run] = (await record(app))["flows"]
    assert (run["flow"], run["status"], run["step"]) == (
        "welcome",
        "active",
        2,
    )  # waiting at the first question
    assert run["due_at"] and run["started_by"].startswith("SM")


async def test_stop_cancels_the_running_flow_and_a_new_join_starts_a_fresh_one(app: Any) -> None:
    phone = Phone(app)
    await phone.text("JOIN")
    await phone.text("STOP")
    [run] = (await record(app))["flows"]
    assert run["status"] == "cancelled" and run["ended_at"]
    await phone.text("JOIN")  # an explicit opt-in again: the welcome flow starts afresh
    assert [r["status"] for r in (await record(app))["flows"]] == ["cancelled", "active"]


async def test_start_rejoins_without_starting_a_flow(app: Any) -> None:
    phone = Phone(app)
    await phone.text("JOIN")
    await phone.text("STOP")
    await phone.text("START")  # START is not the keyword: subscribed again, no welcome series
    found = await record(app)
    assert found["status"] == "subscribed" and [r["status"] for r in found["flows"]] == ["cancelled"]


async def test_a_keyword_without_a_flow_or_a_stranger_starts_nothing(app: Any) -> None:
    phone = Phone(app)
    await phone.text("EVENTS")  # not subscribed
    await phone.text("SHOES")  # subscribes; SHOES has no flow
    assert (await record(app))["flows"] == []


async def test_a_double_opt_in_starts_its_flow_only_at_the_yes(
    make_client: ClientFactory, keywords_copy: Path
) -> None:
    folder = keywords_copy
    text = (
        (folder / "keywords.yaml")
        .read_text()
        .replace("    double_opt_in: true\n", "    double_opt_in: true\n    flow: welcome\n")
    )
    (folder / "keywords.yaml").write_text(text)
    app = await make_client(keywords_dir=folder, admin_token=ADMIN_TOKEN)
    phone = Phone(app)
    await phone.text("VIP")
    assert (await record(app))["flows"] == []
    await phone.text("Y")
    assert [r["flow"] for r in (await record(app))["flows"]] == ["welcome"]


async def test_the_database_refuses_a_second_active_run_of_a_flow(app: Any, database_url: str) -> None:
    await Phone(app).text("JOIN")
    engine = db.create_engine(database_url)
    now = datetime.now(UTC)
    row = {
        "subscriber_id": 1,
        "flow": "welcome",
        "status": "active",
        "step": 0,
        "waiting": False,
        "asked_again": False,
        "started_at": now,
        "updated_at": now,
    }
    try:
        with pytest.raises(IntegrityError):
            async with engine.begin() as conn:
                await conn.execute(insert(flow_runs), row)
        async with engine.begin() as conn:  # an ended run beside the active one is fine
            await conn.execute(insert(flow_runs), {**row, "status": "ended"})
    finally:
        await engine.dispose()
