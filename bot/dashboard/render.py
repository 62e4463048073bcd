"""Server-rendered dashboard pages: Jinja2 templates beside this module, HTML escaped by default."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from jinja2 import Environment, PackageLoader, select_autoescape

from bot.dashboard import people, sessions
from bot.dashboard.session_store import SessionUser
from bot.domain.list_import import PRESETS
from bot.domain.roles import Permission, may
from bot.services import SERVICES

PAGES = (  # (path, title, who may open it) of the navigation, in order
    ("/dashboard", "Overview", Permission.READ),
    ("/dashboard/inbox", "Inbox", Permission.READ),
    ("/dashboard/keywords", "Keywords", Permission.READ),
    ("/dashboard/flows", "Flows", Permission.READ),
    ("/dashboard/campaigns", "Campaigns", Permission.READ),
    ("/dashboard/segments", "Segments", Permission.READ),
    ("/dashboard/subscribers", "Subscribers", Permission.READ),
    ("/dashboard/program", "Program", Permission.READ),
    ("/dashboard/users", "Users", Permission.ADMINISTER),
    ("/dashboard/audit", "Audit log", Permission.ADMINISTER),
)
SESSION = web.RequestKey("dashboard_session", sessions.Session)  # set once the login is checked
USER = web.RequestKey("dashboard_user", SessionUser)  # who the session is
_ENV = Environment(
    loader=PackageLoader("bot.dashboard", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)

_ENV.globals["import_presets"] = sorted(PRESETS)  # the Subscribers page's import form


def render(request: web.Request, template: str, **context: Any) -> web.Response:
    """The page, with what every page shows: the navigation, the program's name, the form token."""
    services = request.app[SERVICES]
    session = request.get(SESSION)
    secret = services.settings.dashboard_secret
    csrf = sessions.csrf_token(sessions.key_from(secret), session) if session and secret else ""
    user = request.get(USER)
    info = services.program.current.info
    html = _ENV.get_template(template).render(
        when=people.when(info.zone, datetime.now(UTC)),
        language_name=lambda code: people.language_name(code, info.default_language),
        media_name=people.media_name,
        property_text=people.property_text,
        purposes=people.PURPOSES,
        pages=[(path, title) for path, title, needed in PAGES if user is not None and may(user.role, needed)],
        user=user,
        can={p.name.lower(): user is not None and may(user.role, p) for p in Permission},
        here=request.path,
        program=services.program.current.info.name,
        csrf=csrf,
        **context,
    )
    response = web.Response(text=html, content_type="text/html")
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = "default-src 'self'; style-src 'self'; img-src 'self' data:"
    return response


def render_public(template: str, status: int = 200, **context: Any) -> web.Response:
    """A public page (the sign-up form): no session, and embeddable in the brand's own site."""
    response = web.Response(
        text=_ENV.get_template(template).render(**context), content_type="text/html", status=status
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = "default-src 'self'; style-src 'self'; frame-ancestors *"
    return response
