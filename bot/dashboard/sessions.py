"""Dashboard sessions: a signed cookie that expires, and the CSRF token every form carries.

The signing key is derived from the secret that logs one in (SMSBOT_DASHBOARD_PASSWORD, else the
admin token): changing it signs every session out. Behind the cookie, the session is kept on the
server (`session_store`), so that a logout ends it at once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass

LIFETIME = 12 * 3600  # seconds a login lasts


@dataclass(frozen=True)
class Session:
    sid: str
    expires: int  # unix seconds


def key_from(secret: str) -> bytes:
    return hmac.new(b"smsbot-dashboard-session", secret.encode(), hashlib.sha256).digest()


def issue(key: bytes, now: float) -> tuple[Session, str]:
    """A new session and its cookie value."""
    session = Session(secrets.token_urlsafe(18), int(now) + LIFETIME)
    body = base64.urlsafe_b64encode(
        json.dumps({"sid": session.sid, "exp": session.expires}).encode()
    ).decode()
    return session, f"{body}.{_sign(key, body)}"


def read(key: bytes, cookie: str | None, now: float) -> Session | None:
    """The session a cookie holds, if it is ours, untampered and not expired."""
    if not cookie or "." not in cookie or len(cookie) > 512:
        return None
    body, _, signature = cookie.rpartition(".")
    if not hmac.compare_digest(signature.encode("ascii", "replace"), _sign(key, body).encode()):
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(body.encode()))
        session = Session(str(data["sid"]), int(data["exp"]))
    except (ValueError, KeyError, TypeError):
        return None
    return session if session.expires > now else None


def csrf_token(key: bytes, session: Session) -> str:
    """The token a logged-in form carries: bound to the session, so another site cannot forge it."""
    return _sign(key, f"csrf:{session.sid}")


def csrf_ok(key: bytes, session: Session, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(
        str(given).encode("ascii", "replace"), csrf_token(key, session).encode()
    )


def _sign(key: bytes, text: str) -> str:
    return (
        base64.urlsafe_b64encode(hmac.new(key, text.encode(), hashlib.sha256).digest()).decode().rstrip("=")
    )
