"""The Inbox: a text the program does not understand opens a conversation a person reads and
answers; within it nothing automatic answers; a STOP closes it; an agent answers, a viewer cannot."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.store.schema import audit_log, conversations, messages
from tests.conftest import ClientFactory, Phone, services_of
from tests.dashboard.test_auth import PASSWORD, log_in
from tests.dashboard.test_users import SECRET, smsbot_users


async def rows_of(app: Any, table: Any) -> list[Any]:
    async with services_of(app).engine.connect() as conn:
        return list((await conn.execute(select(table).order_by(table.c.id))).mappings())


async def csrf(app: Any, path: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', await (await app.get(path)).text())
    assert found is not None, path
    return found.group(1)


async def subscribed(phone: Phone) -> None:
    """JOIN, and the welcome flow's two questions answered: nothing waits for an answer."""
    for text in ("JOIN", "Ana", "04/23"):
        await phone.text(text)


@pytest.fixture
async def app(make_client: ClientFactory) -> Any:
    return await make_client(dashboard_password=PASSWORD)


async def test_a_question_opens_a_conversation_and_further_texts_join_it_unanswered(app: Any) -> None:
    phone = Phone(app)
    await subscribed(phone)
    first = await phone.text("do you have these boots in size 9?")
    assert first  # the program's usual answer, once: the conversation opens
    assert await phone.text("the brown ones") == ""  # a person is on it now: nothing automatic
    assert "Acme" in await phone.text("HELP")  # HELP still answers
    assert await phone.text("thanks!") == ""
    found = await rows_of(app, conversations)
    assert [(c["status"], c["unread"]) for c in found] == [("open", 3)]  # HELP is the program's
    assert await phone.text("STOP")  # STOP still wins at once, and ends the conversation
    closed = await rows_of(app, conversations)
    assert [(c["status"], c["closed_by"]) for c in closed] == [("closed", "opted out")]


async def test_the_inbox_lists_it_newest_first_and_the_thread_shows_the_context(app: Any) -> None:
    ana, ben = Phone(app, "+14155550123"), Phone(app, "+14155550124")
    await subscribed(ana)
    await ana.text("where is my order?")
    await ben.text("hello??")
    assert (await log_in(app)).status == 302
    page = await (await app.get("/dashboard/inbox")).text()
    assert "<title>Inbox (2) ·" in page
    listed = re.findall(r'data-conversation="(\d+)"', page)
    assert len(listed) == 2
    assert page.index("hello??") < page.index("where is my order?")  # the latest first
    first = await rows_of(app, conversations)
    ana_conversation = next(
        c["id"] for c in first if c["last_message_at"] == min(x["last_message_at"] for x in first)
    )
    thread = await (await app.get(f"/dashboard/inbox/{ana_conversation}")).text()
    assert "where is my order?" in thread and "JOIN" in thread  # the whole timeline, not only the question
    assert 'id="subscriber-status">subscribed<' in thread
    assert "English (the program" in thread or "English" in thread
    assert [c["unread"] for c in await rows_of(app, conversations) if c["id"] == ana_conversation] == [0]


async def test_an_agent_answers_a_viewer_cannot_and_nobody_answers_an_opted_out_number(app: Any) -> None:
    for name, role in (("alex", "agent"), ("vera", "viewer")):
        assert smsbot_users(app, "add", name, "--role", role).returncode == 0
    phone = Phone(app)
    await subscribed(phone)
    await phone.text("size 9 please")
    conversation = (await rows_of(app, conversations))[0]["id"]
    path = f"/dashboard/inbox/{conversation}"
    assert (await log_in(app, SECRET, name="vera")).status == 302
    page = await (await app.get(path)).text()
    assert 'id="answer"' not in page  # no answer box for a viewer
    token = await csrf(app, path)
    refused = await app.post(f"{path}/answer", data={"csrf": token, "body": "hi"}, allow_redirects=False)
    assert refused.status == 403
    assert (await log_in(app, SECRET, name="alex")).status == 302
    token = await csrf(app, path)
    sent = await app.post(
        f"{path}/answer", data={"csrf": token, "body": "Yes, in brown!"}, allow_redirects=False
    )
    assert sent.status == 302
    queued = [m for m in await rows_of(app, messages) if m["purpose"] == "person"]
    assert [(m["body"], m["sent_by"], m["status"]) for m in queued] == [("Yes, in brown!", "alex", "pending")]
    assert ("inbox_answer", "alex") in [(r["action"], r["user_name"]) for r in await rows_of(app, audit_log)]
    await phone.text("STOP")
    after = await app.post(f"{path}/answer", data={"csrf": token, "body": "wait!"}, allow_redirects=False)
    assert after.status == 409 and "they opted out" in await after.text()
    assert len([m for m in await rows_of(app, messages) if m["purpose"] == "person"]) == 1


async def test_the_inbox_escapes_what_subscribers_text_and_refuses_forged_forms(app: Any) -> None:
    phone = Phone(app)
    hostile = '<img src=x onerror="alert(1)">'
    await phone.text(hostile)
    conversation = (await rows_of(app, conversations))[0]["id"]
    assert (await log_in(app)).status == 302
    for path in ("/dashboard/inbox", f"/dashboard/inbox/{conversation}"):
        page = await (await app.get(path)).text()
        assert hostile not in page and "&lt;img src=x" in page
    for action in ("answer", "close", "reopen", "assign"):
        forged = await app.post(
            f"/dashboard/inbox/{conversation}/{action}", data={"body": "x"}, allow_redirects=False
        )
        assert forged.status == 403, action
    assert [c["status"] for c in await rows_of(app, conversations)] == ["open"]


async def test_close_reopen_and_assign_each_in_the_audit_log(app: Any) -> None:
    phone = Phone(app)
    await phone.text("a question")
    conversation = (await rows_of(app, conversations))[0]["id"]
    path = f"/dashboard/inbox/{conversation}"
    assert (await log_in(app)).status == 302
    for action, data in (("assign", {"to": "nobody-here"}), ("close", {}), ("reopen", {})):
        response = await app.post(
            f"{path}/{action}", data={"csrf": await csrf(app, path), **data}, allow_redirects=False
        )
        assert response.status in (302, 409), action
    found = (await rows_of(app, conversations))[0]
    assert found["status"] == "open" and found["assigned_to"] is None  # no such user: refused
    actions = [r["action"] for r in await rows_of(app, audit_log)]
    assert actions[-2:] == ["inbox_close", "inbox_reopen"]
    await phone.text("another question")
    assert len(await rows_of(app, conversations)) == 1  # the reopened one took it


def keywords_with_auto_reply(keywords_copy: Path) -> Path:
    inbox = keywords_copy / "inbox.yaml"
    text = inbox.read_text().replace("  # auto_reply:", "  auto_reply:")
    text = text.replace('  #   open: "', '    open: "').replace('  #   closed: "', '    closed: "')
    inbox.write_text(text)
    return keywords_copy


async def test_a_conversation_that_does_not_exist_is_a_404_whatever_its_number(app: Any) -> None:
    assert (await log_in(app)).status == 302
    for number in ("12345", "9" * 30):
        assert (await app.get(f"/dashboard/inbox/{number}")).status == 404
    changes = await app.get(f"/dashboard/inbox/changes?conversation={'9' * 30}")
    assert changes.status == 200 and "thread" not in await changes.json()
    missing = await app.get("/dashboard/inbox/changes?conversation=12345")
    assert (await missing.json())["thread"] is None


async def test_an_answer_with_a_nul_is_sent_without_it(app: Any) -> None:
    phone = Phone(app)
    await subscribed(phone)
    await phone.text("hello?")
    conversation = (await rows_of(app, conversations))[0]["id"]
    path = f"/dashboard/inbox/{conversation}"
    assert (await log_in(app)).status == 302
    sent = await app.post(
        f"{path}/answer", data={"csrf": await csrf(app, path), "body": "hi\x00 there"}, allow_redirects=False
    )
    assert sent.status == 302
    assigned = await app.post(
        f"{path}/assign", data={"csrf": await csrf(app, path), "to": "x\x00y"}, allow_redirects=False
    )
    assert assigned.status == 409
    assert [m["body"] for m in await rows_of(app, messages) if m["purpose"] == "person"] == ["hi there"]
