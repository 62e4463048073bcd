"""The Program page: what runs, since when, and whether the files on disk are it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.conftest import KEYWORDS, ClientFactory, services_of
from tests.dashboard.test_auth import PASSWORD, log_in
from tests.dashboard.test_overview import cells


async def test_an_edit_shows_as_changed_until_it_is_loaded_and_then_when(
    make_client: ClientFactory, keywords_copy: Path
) -> None:
    app: Any = await make_client(dashboard_password=PASSWORD, keywords_dir=keywords_copy)
    await log_in(app)
    first = await (await app.get("/dashboard/program")).text()
    assert cells(first, 'id="in-step"') == ["what is running"]
    holder = services_of(app).services.program
    before = holder.loaded_at
    assert f'<time datetime="{before.isoformat()}">' in first  # to the microsecond, for a machine
    program = keywords_copy / "program.yaml"
    program.write_text(program.read_text().replace("Acme Outfitters Alerts", "Acme Outfitters Deals"))
    edited = await (await app.get("/dashboard/program")).text()
    assert cells(edited, 'id="in-step"') == ["changed since it was loaded"]
    assert await services_of(app).watcher.reload()
    again = await (await app.get("/dashboard/program")).text()
    assert cells(again, 'id="in-step"') == ["what is running"] and "Acme Outfitters Deals" in again
    assert holder.loaded_at > before
    assert f'<time datetime="{holder.loaded_at.isoformat()}">' in again


async def test_each_finding_names_its_file_and_line_as_smsbot_check_does(make_client: ClientFactory) -> None:
    app: Any = await make_client(dashboard_password=PASSWORD)
    await log_in(app)
    page = await (await app.get("/dashboard/program")).text()
    # The shipped Spanish-only winter sale: a warning smsbot check prints with its file and line
    lines = (KEYWORDS / "campaigns.yaml").read_text().splitlines()
    campaign = lines.index("  ofertas_de_invierno:")
    line = next(i for i in range(campaign, len(lines)) if lines[i].startswith("    message:")) + 1
    assert f"/keywords/campaigns.yaml:{line}</code> warning: campaigns.ofertas_de_invierno.message" in page
