"""The admin API's segments: counts, definitions, members paged and exported as CSV."""

import csv
import io
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import pytest

from tests.conftest import ADMIN, ADMIN_TOKEN, ClientFactory, Phone


@pytest.fixture
async def app(make_client: ClientFactory) -> Any:
    app = await make_client(admin_token=ADMIN_TOKEN)
    for n, body in enumerate(("JOIN", "SHOES", "UNETE", "SHOES")):
        await Phone(app, f"+1415555010{n}").text(body)
    await Phone(app, "+14155550101").text("STOP")  # a shoe fan who left: a member, never reached
    return app


async def test_each_segment_with_its_live_count(app: Any) -> None:
    response = await app.get("/api/segments", headers=ADMIN)
    counts = {s["name"]: (s["members"], s["subscribed"]) for s in (await response.json())["segments"]}
    assert counts["all_subscribers"] == (3, 3)
    assert counts["shoe_fans"] == (2, 1)
    assert counts["spanish_speakers"] == (1, 1)


async def test_one_segment_shows_its_condition(app: Any) -> None:
    found = await (await app.get("/api/segments/shoe_fans", headers=ADMIN)).json()
    assert found["condition"] == {"kind": "property", "name": "interests", "op": "contains", "value": "shoes"}
    assert (found["members"], found["subscribed"]) == (2, 1)


async def test_members_come_a_page_at_a_time(app: Any) -> None:
    first = await (await app.get("/api/segments/all_subscribers/members?limit=2", headers=ADMIN)).json()
    assert [m["phone"] for m in first["members"]] == ["+14155550100", "+14155550102"]
    rest = await (
        await app.get(f"/api/segments/all_subscribers/members?limit=2&after={first['next']}", headers=ADMIN)
    ).json()
    assert [m["phone"] for m in rest["members"]] == ["+14155550103"] and rest["next"] is None


async def test_the_csv_export_has_every_member_with_status_language_source_and_properties(app: Any) -> None:
    response = await app.get("/api/segments/shoe_fans/members.csv", headers=ADMIN)
    assert response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(await response.text())))
    assert [(r["phone"], r["status"], r["opt_in_source"]) for r in rows] == [
        ("+14155550101", "unsubscribed", "in-store-shoe-display"),
        ("+14155550103", "subscribed", "in-store-shoe-display"),
    ]
    assert rows[0]["interests"] == "shoes" and rows[0]["country"] == "US"


@pytest.mark.parametrize(
    "path",
    ["/api/segments", "/api/segments/vip", "/api/segments/vip/members", "/api/segments/vip/members.csv"],
)
async def test_without_the_token_nothing_is_shown(app: Any, path: str) -> None:
    assert (await app.get(path)).status == 401


@pytest.mark.parametrize("query", ["after=-1", "limit=x", "limit=5000", "after=1e3", "after=²", "limit=١٢"])
async def test_a_bad_page_is_a_400(app: Any, query: str) -> None:
    assert (await app.get(f"/api/segments/vip/members?{query}", headers=ADMIN)).status == 400


async def test_an_unknown_segment_is_a_404(app: Any) -> None:
    assert (await app.get("/api/segments/nobody/members.csv", headers=ADMIN)).status == 404


async def test_smsbot_segment_counts_samples_masked_and_exports_every_member(app: Any, tmp_path: Any) -> None:
    import asyncio

    from click.testing import CliRunner

    from bot.cli import main
    from tests.conftest import services_of

    settings = services_of(app).settings
    env = {"DATABASE_URL": settings.database_url, "SMSBOT_KEYWORDS_DIR": str(settings.keywords_dir)}
    target = tmp_path / "fans.csv"
    args = ["segment", "shoe_fans", "--export", str(target)]
    result = await asyncio.to_thread(CliRunner().invoke, main, args, env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "shoe_fans: 2 members, 1 of them subscribed" in result.output
    assert "+14*******01" in result.output and "+14155550101" not in result.output
    rows = list(csv.DictReader(target.open()))
    assert [r["phone"] for r in rows] == ["+14155550101", "+14155550103"]


async def test_a_segment_name_with_quotes_and_accents_cannot_break_the_export_header(
    make_client: ClientFactory, keywords_copy: Path
) -> None:
    """RFC 6266: a plain ASCII filename= and the real name in filename*=, one parameter each."""
    segments = keywords_copy / "segments.yaml"
    segments.write_text(segments.read_text() + "  'fans \"quoted\"; x=1 é': {status: subscribed}\n")
    app = await make_client(keywords_dir=keywords_copy, admin_token=ADMIN_TOKEN)
    await Phone(app, "+14155550100").text("JOIN")
    name = quote('fans "quoted"; x=1 é', safe="")
    response = await app.get(f"/api/segments/{name}/members.csv", headers=ADMIN)
    assert response.status == 200, await response.text()
    header = response.headers["Content-Disposition"]
    kind, plain, encoded = header.split("; ")  # three parts: no name can add a parameter
    assert kind == "attachment" and plain == 'filename="fans _quoted_ x_1 _.csv"'
    assert encoded.startswith("filename*=UTF-8''")
    assert unquote(encoded.removeprefix("filename*=UTF-8''")) == 'fans "quoted"; x=1 é.csv'
