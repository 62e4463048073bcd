"""The Segments pages: live counts, a segment's sample of members with numbers masked, and its
CSV export (the same rows as the admin API's, and kept in the audit log)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.store.schema import audit_log
from tests.conftest import ADMIN, Phone, services_of
from tests.dashboard.test_overview import cells


async def test_a_segment_shows_its_count_a_masked_sample_and_exports_its_members(app: Any) -> None:
    for number in ("+14155550101", "+14155550102"):
        await Phone(app, number).text("JOIN")
    listing = await (await app.get("/dashboard/segments")).text()
    assert cells(listing, 'data-segment="all_subscribers"')[:2] == ["2", "2"]
    page = await (await app.get("/dashboard/segments/all_subscribers")).text()
    assert cells(page, 'id="members"') == ["2"] and "+14*******01" in page and "+14155550101" not in page
    exported = await app.get("/dashboard/segments/all_subscribers/members.csv")
    api = await app.get("/api/segments/all_subscribers/members.csv", headers=ADMIN)
    assert exported.status == 200 and await exported.text() == await api.text()
    assert "+14155550102" in await exported.text()
    async with services_of(app).engine.connect() as conn:
        actions = (await conn.execute(select(audit_log.c.action, audit_log.c.detail))).all()
    assert ("segment_export", "all_subscribers") in [tuple(a) for a in actions]


async def test_an_unknown_segment_is_not_found(app: Any) -> None:
    assert (await app.get("/dashboard/segments/nobody")).status == 404
    assert (await app.get("/dashboard/segments/nobody/members.csv")).status == 404


async def test_a_kept_count_is_shown_until_the_segment_is_counted_again(app: Any) -> None:
    await Phone(app, "+14155550101").text("JOIN")
    first = await (await app.get("/dashboard/segments")).text()
    assert cells(first, 'data-segment="all_subscribers"')[:2] == ["1", "1"]
    await Phone(app, "+14155550102").text("JOIN")
    kept = await (await app.get("/dashboard/segments")).text()
    assert cells(kept, 'data-segment="all_subscribers"')[:2] == ["1", "1"]  # counted a moment ago
    page = await (await app.get("/dashboard/segments/all_subscribers")).text()
    csrf = page.split('name="csrf" value="')[1].split('"')[0]
    counted = await app.post("/dashboard/segments/all_subscribers/count", data={"csrf": csrf})
    assert counted.status == 200 and cells(await counted.text(), 'id="members"') == ["2"]
    forged = await app.post("/dashboard/segments/all_subscribers/count", data={"csrf": "forged"})
    assert forged.status == 403
