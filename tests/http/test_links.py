"""Tracked links: a message's link(...) becomes a short link of its own, and a tap on it is a click."""

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select, update

from bot.store.schema import clicks, links, subscribers
from tests.conftest import PUBLIC_URL, ClientFactory, Phone, services_of

SALE = """
keywords:
  SALE:
    type: preference
    reply: 'Shoes 20% off: {{ link("https://acme.example/sale?ref=text") }} Reply STOP to opt out'
"""
IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"
IMESSAGE_PREVIEW = (
    "Mozilla/5.0 (Macintosh) AppleWebKit/601.2.4 facebookexternalhit/1.1 Facebot Twitterbot/1.0"
)


@pytest.fixture
async def app(make_client: ClientFactory, keywords_copy: Path) -> Any:
    (keywords_copy / "sale.yaml").write_text(SALE)
    return await make_client(keywords_dir=keywords_copy, public_url=PUBLIC_URL)


async def short_link(app: Any, phone: Phone) -> str:
    await phone.text("JOIN")
    reply = await phone.text("SALE")
    [link] = [word for word in reply.split() if word.startswith(PUBLIC_URL)]
    return link


async def stored_clicks(app: Any) -> list[Any]:
    await written(app)
    async with services_of(app).engine.connect() as conn:
        return list((await conn.execute(select(clicks).order_by(clicks.c.id))).all())


async def test_a_link_in_a_reply_is_a_short_link_unique_to_the_subscriber(app: Any) -> None:
    first = await short_link(app, Phone(app, "+14155550101"))
    second = await short_link(app, Phone(app, "+14155550102"))
    assert first.startswith(f"{PUBLIC_URL}/l/") and second.startswith(f"{PUBLIC_URL}/l/")
    assert first != second
    assert "acme.example" not in first


async def test_a_tap_redirects_with_utm_parameters_and_counts_a_click(app: Any) -> None:
    link = await short_link(app, Phone(app))
    response = await app.get(urlsplit(link).path, headers={"User-Agent": IPHONE}, allow_redirects=False)
    assert response.status == 302
    target = urlsplit(response.headers["Location"])
    assert (target.netloc, target.path) == ("acme.example", "/sale")
    query = parse_qs(target.query)
    assert query == {
        "ref": ["text"],
        "utm_source": ["sms"],
        "utm_medium": ["keyword"],
        "utm_campaign": ["SALE"],
    }
    [click] = await stored_clicks(app)
    assert click.preview is False and click.user_agent == IPHONE


async def test_a_link_preview_fetcher_is_sent_on_but_not_counted(app: Any) -> None:
    link = await short_link(app, Phone(app))
    path = urlsplit(link).path
    preview = await app.get(path, headers={"User-Agent": IMESSAGE_PREVIEW}, allow_redirects=False)
    head = await app.head(path, headers={"User-Agent": IPHONE}, allow_redirects=False)
    assert preview.status == 302 and head.status == 302
    assert [c.preview for c in await stored_clicks(app)] == [True, True]


async def written(app: Any) -> None:
    """A tap is answered before its click is committed: wait for the writes queued so far."""
    writer = services_of(app).services.writer
    assert writer is not None
    await writer.probe()


async def engaged_at(app: Any) -> datetime:
    await written(app)
    async with services_of(app).engine.connect() as conn:
        return (await conn.execute(select(subscribers.c.engaged_at))).scalar_one()  # type: ignore[no-any-return]


async def test_a_tap_makes_the_subscriber_engaged_and_a_preview_does_not(app: Any) -> None:
    path = urlsplit(await short_link(app, Phone(app))).path
    long_ago = datetime.now(UTC) - timedelta(days=60)
    async with services_of(app).engine.begin() as conn:  # their texts were two months ago
        await conn.execute(update(subscribers).values(engaged_at=long_ago))
    await app.get(path, headers={"User-Agent": IMESSAGE_PREVIEW}, allow_redirects=False)
    assert await engaged_at(app) == long_ago
    before = datetime.now(UTC)
    await app.get(path, headers={"User-Agent": IPHONE}, allow_redirects=False)
    assert await engaged_at(app) >= before


@pytest.mark.parametrize("code", ["nothing1", "a" * 17, "abc%2F..", "ab-cd"])
async def test_an_unknown_code_is_a_plain_404(app: Any, code: str) -> None:
    response = await app.get(f"/l/{code}", allow_redirects=False)
    assert response.status == 404
    assert "not valid" in await response.text()
    assert await stored_clicks(app) == []


async def test_an_expired_link_is_a_404(app: Any) -> None:
    link = await short_link(app, Phone(app))
    async with services_of(app).engine.begin() as conn:
        await conn.execute(update(links).values(created_at=datetime.now(UTC) - timedelta(days=400)))
    response = await app.get(urlsplit(link).path, allow_redirects=False)
    assert response.status == 404


async def test_without_a_public_url_the_link_goes_out_as_written(
    make_client: ClientFactory, keywords_copy: Path
) -> None:
    (keywords_copy / "sale.yaml").write_text(SALE)
    app = await make_client(keywords_dir=keywords_copy, public_url=None)
    phone = Phone(app)
    await phone.text("JOIN")
    assert "https://acme.example/sale?ref=text" in await phone.text("SALE")


LOOKBOOK = """
keywords:
  LOOK:
    type: preference
    flow: lookbook
flows:
  lookbook:
    steps:
      - send: 'The lookbook: {{ link("https://acme.example/lookbook") }}'
"""


async def test_a_link_in_a_flow_step_is_tracked_as_the_flows(
    make_client: ClientFactory, keywords_copy: Path
) -> None:
    (keywords_copy / "look.yaml").write_text(LOOKBOOK)
    app = await make_client(keywords_dir=keywords_copy, public_url=PUBLIC_URL)
    phone = Phone(app)
    await phone.text("JOIN")
    reply = await phone.text("LOOK")
    [link] = [word for word in reply.split() if word.startswith(PUBLIC_URL)]
    response = await app.get(urlsplit(link).path, headers={"User-Agent": IPHONE}, allow_redirects=False)
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert (query["utm_medium"], query["utm_campaign"]) == (["flow"], ["lookbook"])
