"""The inbox at the carrier, with `smsbot worker` as a real process: a person's answer reaches the
phone and its delivery shows in the thread; a campaign sent meanwhile waits for the conversation;
STOP inside the conversation ends everything."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.store.schema import conversations
from tests.conftest import ACCOUNT_SID, ADMIN_TOKEN, services_of
from tests.dashboard.test_auth import log_in
from tests.worker.carrier import Scene, Stage
from tests.worker.test_gate_at_the_carrier import ANA, BEN, TWO_CAMPAIGNS, subscribed

QUIET = 10  # seconds: the program's marketing_waits in the test


async def conversation_of(s: Scene) -> int:
    async with services_of(s.app).engine.connect() as conn:
        return int((await conn.execute(select(conversations.c.id))).scalar_one())


async def logged_in(s: Scene) -> dict[str, str]:
    """A session as the shared secret's admin; its cookie, to send (it is Secure behind the https
    public URL, which the test client will not send back over http itself)."""
    response = await log_in(s.app, ADMIN_TOKEN)
    assert response.status == 302
    return {"Cookie": f"smsbot_session={response.cookies['smsbot_session'].value}"}


async def answer(s: Scene, session: dict[str, str], conversation: int, body: str) -> Any:
    path = f"/dashboard/inbox/{conversation}"
    page = await s.app.get(path, headers=session)
    token = re.search(r'name="csrf" value="([^"]+)"', await page.text())
    assert token is not None, page.status
    form = {"csrf": token.group(1), "body": body}
    return await s.app.post(f"{path}/answer", data=form, headers=session, allow_redirects=False)


async def test_an_answer_reaches_the_phone_its_delivery_shows_and_a_campaign_waits_for_the_talk(
    keywords_copy: Path, stage: Stage
) -> None:
    inbox = keywords_copy / "inbox.yaml"
    # Long enough for the steps before the campaign on a busy machine (4 s was not, once, with both
    # databases' suites running side by side): the campaign must find the talk still going.
    inbox.write_text(inbox.read_text().replace("marketing_waits: 2h", f"marketing_waits: {QUIET}s"))
    (keywords_copy / "campaigns.yaml").write_text(TWO_CAMPAIGNS)
    async with stage() as s:
        await subscribed(s, ANA, BEN)
        assert await s.carrier(ANA).text("do you have the boots in size 9?")  # the usual answer, once
        conversation = await conversation_of(s)
        session = await logged_in(s)
        assert (await answer(s, session, conversation, "Yes! Size 9 in brown, ships today.")).status == 302
        answered_at = time.monotonic()
        await s.until(lambda: bool(s.reached(ANA, "Size 9 in brown")))
        [sent] = [m for m in s.api.accepted() if "Size 9 in brown" in m["body"]]
        callback = sent["status_callback"].removeprefix(sent["status_callback"].split("/twilio")[0])
        form = {"MessageSid": sent["sid"], "MessageStatus": "delivered", "AccountSid": ACCOUNT_SID}
        assert (await s.carrier(ANA).post(form, callback)).status == 200
        shown = await s.app.get(f"/dashboard/inbox/{conversation}", headers=session)
        thread = await shown.text()
        assert 'data-status="delivered"' in thread
        assert '<small class="by">shared password</small>' in thread  # who wrote it, kept on its row

        assert (await s.admin("/api/campaigns/c1/send")).status == 201
        await s.until(lambda: bool(s.reached(BEN, "first sale")))
        assert not s.reached(ANA, "first sale")  # a person is talking with her: the campaign waits
        await s.until(lambda: bool(s.reached(ANA, "first sale")), QUIET + 16)
        assert time.monotonic() - answered_at >= QUIET - 0.5  # not before the conversation's quiet spell

        assert await s.carrier(ANA).text("STOP")  # STOP inside the conversation wins at once
        refused = await answer(s, session, conversation, "Wait, one more thing")
        assert refused.status == 409
        await asyncio.sleep(1.5)  # anything that was to go would have by now
        assert not s.reached(ANA, "one more thing")
        async with services_of(s.app).engine.connect() as conn:
            found = (await conn.execute(select(conversations.c.status, conversations.c.closed_by))).one()
        assert tuple(found) == ("closed", "opted out")
