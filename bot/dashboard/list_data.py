"""The Subscribers page's list data: a list uploaded and imported, a number erased on request.
Each goes through the admin API's own functions and lands in the audit log."""

from __future__ import annotations

from aiohttp import BodyPartReader, web

from bot.dashboard import auth
from bot.dashboard.render import USER, render
from bot.dashboard.subscribers import form_phone
from bot.domain.roles import Permission
from bot.http.clients import client_address
from bot.http.list_data import erased, imported, plan_from, read_capped
from bot.services import SERVICES


def setup(app: web.Application) -> None:
    app.router.add_post("/dashboard/subscribers/erase", erase)
    app.router.add_post("/dashboard/subscribers/import", upload)


@auth.requires(Permission.ADMINISTER)
async def erase(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    form = await request.post()
    phone = form_phone(services, form)
    reason = str(form.get("reason", "")).strip()
    if not reason or form.get("confirm") != "yes":
        raise web.HTTPBadRequest(text="say why, and tick the box to confirm: an erasure cannot be undone\n")
    address = client_address(request)
    user = request[USER].name
    done = await erased(services, phone, f"{user} on the dashboard", address, reason, user)
    return render(request, "erased.html", done=done)


@auth.requires(Permission.ADMINISTER)
async def upload(request: web.Request) -> web.StreamResponse:
    """A multipart form: the file, and the choices the command line's options make."""
    services = request.app[SERVICES]
    fields, name, data = await _parts(request)
    plan = plan_from(
        services,
        services.program.current,
        {"name": name, **fields},
        [line for line in fields.get("map", "").splitlines() if line.strip()],
    )
    try:
        report = await imported(
            services,
            data.decode("utf-8-sig", errors="replace"),
            plan,
            client_address(request),
            request[USER].name,
        )
    except web.HTTPUnprocessableEntity as exc:
        return render(request, "imported.html", report=None, problems=exc.text)
    return render(request, "imported.html", report=report, problems=None)


async def _parts(request: web.Request) -> tuple[dict[str, str], str, bytes]:
    fields: dict[str, str] = {}
    name, data = "upload.csv", b""
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):
            continue
        if part.name == "file":
            name = (part.filename or name)[:80]
            data = await read_capped(part.read_chunk)
        elif part.name:
            fields[part.name] = (await part.text())[:2000]
    return fields, name, data
