"""Unique coupon codes at the carrier, with `smsbot worker` as a real process: each recipient's text
carries a code of their own from the file the store exported; whoever the pool runs short for gets
no text at all (never one with an empty code); the order that uses a code counts in the report; a
keyword's answer gives a code in the webhook's reply, the same one when asked again."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.store.schema import messages
from tests.conftest import ADMIN_TOKEN, PUBLIC_URL, TOKEN, ClientFactory, Phone, services_of
from tests.fake_twilio import FakeTwilio
from tests.worker.carrier import Scene, Stage
from tests.worker.conftest import sending_app
from tests.worker.test_campaigns import smsbot
from tests.worker.test_gate_at_the_carrier import subscribed

WINTER = """
coupons:
  sale20:
    description: 20% off, one use
    low_at: 10
campaigns:
  winter:
    segment: all_subscribers
    message: 'Acme: 20% off all winter boots with code {{ coupon("sale20") }} Reply STOP to opt out'
    smart_sending: false
"""
VIP = """
coupons:
  vip: {}
keywords:
  TREAT:
    type: preference
    reply: 'Acme VIP: your code is {{ coupon("vip") }}. Reply STOP to opt out'
"""
CODES = ["WINTER-7KQ2M9", "WINTER-P4X8ZT", "WINTER-3NB6QW", "WINTER-K9D2RV"]
PEOPLE = [f"+1415555{n:04d}" for n in range(5)]
CODE = re.compile(r"WINTER-[A-Z0-9]{6}")


async def report(s: Scene, name: str) -> dict[str, Any]:
    return dict(json.loads(await smsbot(services_of(s.app).settings, "campaign", "report", name, "--json")))


async def test_each_recipient_gets_a_code_of_their_own_and_none_is_texted_without_one(
    keywords_copy: Path, stage: Stage, tmp_path: Path
) -> None:
    (keywords_copy / "campaigns.yaml").write_text(WINTER)
    export = tmp_path / "codes.csv"
    export.write_text("Code\n" + "\n".join(CODES) + "\n")  # as Shopify's bulk export heads it
    async with stage(rate=20) as s:
        await subscribed(s, *PEOPLE)
        settings = services_of(s.app).settings
        loaded = json.loads(await smsbot(settings, "coupons", "load", "sale20", str(export), "--json"))
        assert (loaded["added"], loaded["left"]) == (4, 4)
        checked = await smsbot(settings, "check")
        assert "campaign winter: coupon pool sale20 has 4 codes left for 5 recipients" in checked
        assert "coupons.sale20: 4 codes left, fewer than low_at (10)" in checked
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        preview = await (await s.app.get("/api/campaigns/winter/preview", headers=headers)).json()
        assert any("sale20 has 4 codes left for 5 recipients" in w for w in preview["warnings"])
        assert (await s.admin("/api/campaigns/winter/send")).status == 201

        async def finished() -> bool:
            return await s.campaign_status("winter") == "finished"

        await s.until(finished, 30)
        texts = {phone: s.reached(phone, "winter boots") for phone in PEOPLE}
        reached = {phone: found[0] for phone, found in texts.items() if found}
        assert len(reached) == 4 and all(len(found) <= 1 for found in texts.values())
        codes = [CODE.findall(body) for body in reached.values()]
        assert sorted(found[0] for found in codes) == sorted(CODES)  # each code once, to one person
        status = json.loads(await smsbot(settings, "campaign", "status", "winter", "--json"))
        assert status["recipients"].get("skipped: no_coupon") == 1

        [ana, used] = next(iter(reached.items()))
        order = {
            "id": "order-1",
            "type": "order_placed",
            "phone": ana,
            "occurred_at": datetime.now(UTC).isoformat(),
            "properties": {
                "order_id": "1001",
                "total_price": "80.00",
                "currency": "USD",
                "discount_codes": CODE.findall(used),
            },
        }
        await s.events(order)
        assert (await report(s, "winter"))["coupons"] == {"given": 4, "redeemed": 1, "redemption_rate": 0.25}
        listed = json.loads(await smsbot(settings, "coupons", "list", "--json"))
        assert listed["sale20"] == {"loaded": 4, "given": 4, "redeemed": 1, "left": 0, "low": True}


async def test_a_keyword_answer_gives_a_code_once_and_holds_back_when_the_pool_is_empty(
    keywords_copy: Path, make_client: ClientFactory, twilio_api: tuple[FakeTwilio, str], tmp_path: Path
) -> None:
    """The answer goes back in the webhook's reply (TwiML): what the carrier sends is that."""
    (keywords_copy / "vip.yaml").write_text(VIP)
    (tmp_path / "vip.txt").write_text("VIP-ONLY-1\n")
    app = await sending_app(make_client, twilio_api, 10.0, keywords_dir=keywords_copy)
    ana, ben = PEOPLE[:2]
    await subscribed(Scene(app, twilio_api[0], tmp_path / "no.log"), ana, ben)
    await smsbot(services_of(app).settings, "coupons", "load", "vip", str(tmp_path / "vip.txt"))
    phone = Phone(app, ana, token=TOKEN, public_url=PUBLIC_URL)
    first = await phone.text("TREAT")
    assert "your code is VIP-ONLY-1." in first
    assert await phone.text("treat please") == first  # the same code, not a second one
    other = await Phone(app, ben, token=TOKEN, public_url=PUBLIC_URL).text("TREAT")
    assert "VIP-ONLY" not in other  # none left: no text with a blank code
    async with services_of(app).engine.connect() as conn:
        held = (
            await conn.execute(
                select(messages.c.body, messages.c.status, messages.c.reason).where(
                    messages.c.reason == "no_coupon"
                )
            )
        ).all()
    assert [tuple(row) for row in held] == [
        ("Acme VIP: your code is [no vip code left]. Reply STOP to opt out", "cancelled", "no_coupon")
    ]
