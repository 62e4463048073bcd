"""The Inbox: conversations with subscribers, the latest first; a thread with the subscriber's
context beside it; a person's answer, sent through the worker and the gate like every message.

New messages appear without reloading by short polling (`/dashboard/inbox/changes`, every few
seconds): one small read of the conversations table, which works through any proxy and from any of
the web processes without a message bus (server-sent events would need Redis pub/sub to reach a
page served by another process, and a held connection per open tab)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from bot.dashboard import auth
from bot.dashboard.render import USER, render
from bot.domain.links import swap
from bot.domain.roles import Permission, user_name
from bot.domain.voice import NOTHING_TEXTED, Voice
from bot.http.admin import read, write
from bot.pipeline import answers
from bot.services import SERVICES
from bot.store import inbox, rows, users

STATUSES = ("open", "closed")


def setup(app: web.Application) -> None:
    app.router.add_get("/dashboard/inbox", listing)
    app.router.add_get("/dashboard/inbox/changes", changes)
    app.router.add_get("/dashboard/inbox/{id:\\d{1,18}}", conversation)
    app.router.add_post("/dashboard/inbox/{id:\\d{1,18}}/answer", answer)
    app.router.add_post("/dashboard/inbox/{id:\\d{1,18}}/{change:close|reopen|assign}", change)


@auth.logged_in
async def listing(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    status = request.query.get("status", "open")
    if status not in STATUSES:
        status = "open"
    page = _number(request.query.get("page", "0"))
    mine = request.query.get("mine") == "1"
    who = request[USER].name if mine else None
    found = await read(services, inbox.listing, status, page, who)
    counted = await read(services, inbox.counts)
    return render(
        request,
        "inbox.html",
        conversations=found,
        counts=counted,
        status=status,
        page=page,
        mine=mine,
        more=len(found) == inbox.PAGE,
    )


@auth.logged_in
async def changes(request: web.Request) -> web.StreamResponse:
    """What the pages poll: the inbox's mark and unread count, and a thread's mark if asked."""
    services = request.app[SERVICES]
    counted = await read(services, inbox.counts)
    found: dict[str, Any] = {"mark": counted.mark, "unread": counted.unread, "open": counted.open}
    wanted = request.query.get("conversation", "")
    if wanted.isascii() and wanted.isdigit() and len(wanted) < 19:
        found["thread"] = await read(services, inbox.thread_mark, int(wanted))
    response = web.json_response(found)
    response.headers["Cache-Control"] = "no-store"
    return response


@auth.logged_in
async def conversation(request: web.Request) -> web.StreamResponse:
    return await _thread(request)


async def _thread(request: web.Request, problem: str | None = None, status: int = 200) -> web.Response:
    services = request.app[SERVICES]
    program = services.program.current
    conversation_id = int(request.match_info["id"])
    shown = await read(services, inbox.thread, conversation_id, program, datetime.now(UTC))
    if shown is None:
        raise web.HTTPNotFound(text=f"no conversation {conversation_id}\n")
    if shown.conversation["unread"]:
        await write(services, answers.mark_read, conversation_id)
    counted = await read(services, inbox.counts)
    team = await read(services, users.listing)
    response = render(
        request,
        "conversation.html",
        thread=shown,
        counts=counted,
        team=[member.name for member in team],
        saved=_saved_replies(shown.subscriber, program),
        problem=problem,
    )
    response.set_status(status)
    return response


def _saved_replies(person: dict[str, Any], program: Any) -> dict[str, str]:
    """The program's saved replies, written for this subscriber (their language, their tags)."""
    voice = Voice(NOTHING_TEXTED, rows.subscriber_state(person), program, {})
    properties = person.get("properties") or {}
    return {
        name: swap(voice.message(message, properties, "inbox"), lambda mark: mark.url)
        for name, message in program.inbox.saved_replies.items()
    }


@auth.requires(Permission.ANSWER)
async def answer(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    conversation_id = int(request.match_info["id"])
    body = (await request.post()).get("body")
    user = request[USER].name
    try:
        await write(
            services,
            answers.answer,
            conversation_id,
            body if isinstance(body, str) else "",
            user,
            datetime.now(UTC),
        )
    except answers.Refused as exc:
        return await _thread(request, problem=str(exc), status=409)
    await auth.audit(request, "inbox_answer", f"conversation {conversation_id}")
    raise web.HTTPFound(f"/dashboard/inbox/{conversation_id}#answer")


@auth.requires(Permission.ANSWER)
async def change(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    conversation_id, what = int(request.match_info["id"]), request.match_info["change"]
    user = request[USER].name
    now = datetime.now(UTC)
    try:
        if what == "close":
            await write(services, answers.close, conversation_id, user, now)
        elif what == "reopen":
            conversation_id = await write(services, answers.reopen, conversation_id, now)
        else:
            await write(services, answers.assign, conversation_id, await _assignee(request))
    except answers.Refused as exc:
        return await _thread(request, problem=str(exc), status=409)
    await auth.audit(request, f"inbox_{what}", f"conversation {conversation_id}")
    raise web.HTTPFound(f"/dashboard/inbox/{conversation_id}")


async def _assignee(request: web.Request) -> str | None:
    """Whom the form names: a user, or nobody (an empty choice)."""
    wanted = (await request.post()).get("to")
    if not isinstance(wanted, str) or not wanted:
        return None
    if wanted == request[USER].name:
        return wanted
    try:
        name = user_name(wanted)
    except ValueError as exc:
        raise answers.Refused(str(exc)) from None
    if await read(request.app[SERVICES], users.find, name) is None:
        raise answers.Refused(f"no user named {name!r}")
    return name


def _number(text: str) -> int:
    return min(int(text), 10_000) if text.isascii() and text.isdigit() else 0
