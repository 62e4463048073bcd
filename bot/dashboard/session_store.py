"""Dashboard sessions kept on the server (Redis), behind the signed cookie: a logout ends the
session at once (a copy of the cookie opens nothing), "log out everywhere" ends them all, and a
session unused for IDLE seconds ends by itself (OWASP ASVS 3.3). The cookie's own expiry stays the
absolute limit (`sessions.LIFETIME`)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from redis.asyncio import Redis

from bot.dashboard.sessions import LIFETIME
from bot.domain.roles import Role
from bot.services import Services

IDLE = 30 * 60  # seconds without a page before a session ends


def _name(services: Services, sid: str) -> str:
    return f"{services.settings.redis_prefix}dashboard:session:{sid}"


def _all(services: Services) -> str:
    return f"{services.settings.redis_prefix}dashboard:sessions"


def _users(services: Services, user: str) -> str:
    return f"{services.settings.redis_prefix}dashboard:user:{user}"


@dataclass(frozen=True)
class SessionUser:
    """Who a session is: a user's name (SHARED for the shared password) and role."""

    name: str
    role: Role


SHARED = "shared password"  # the audit log's name for SMSBOT_DASHBOARD_PASSWORD (no user has spaces)


async def open_session(services: Services, sid: str, user: SessionUser) -> None:
    assert services.redis is not None
    async with services.redis.pipeline(transaction=True) as pipe:
        pipe.set(_name(services, sid), json.dumps({"user": user.name, "role": user.role.value}), ex=IDLE)
        pipe.sadd(_all(services), sid)
        pipe.sadd(_users(services, user.name), sid)
        pipe.expire(_users(services, user.name), LIFETIME)  # no session of theirs outlives it
        await pipe.execute()


async def alive(services: Services, sid: str) -> SessionUser | None:
    """Who the session is, while it is open; using it keeps it open for another IDLE seconds."""
    assert services.redis is not None
    async with services.redis.pipeline(transaction=True) as pipe:
        pipe.get(_name(services, sid))
        pipe.expire(_name(services, sid), IDLE)  # nothing, when it has ended
        found, _ = await pipe.execute()
    if not found:
        return None
    try:
        data = json.loads(found)
        return SessionUser(str(data["user"]), Role(data["role"]))
    except (ValueError, KeyError, TypeError):
        return None  # a session from before users had names: log in again


async def close(services: Services, sid: str) -> None:
    assert services.redis is not None
    async with services.redis.pipeline(transaction=True) as pipe:
        pipe.delete(_name(services, sid))
        pipe.srem(_all(services), sid)
        await pipe.execute()


async def close_user(redis: Redis, prefix: str, user: str) -> int:
    """End every session of `user` (their role changed, their password, or they were removed);
    the Users page and the command line alike."""
    members = f"{prefix}dashboard:user:{user}"
    sids = [_text(s) for s in await redis.smembers(members)]
    async with redis.pipeline(transaction=True) as pipe:
        for sid in sids:
            pipe.delete(f"{prefix}dashboard:session:{sid}")
            pipe.srem(f"{prefix}dashboard:sessions", sid)
        pipe.delete(members)
        found = await pipe.execute()
    return sum(1 for deleted in found[:-1:2] if deleted)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


async def close_all(services: Services) -> int:
    """End every session; how many were open."""
    assert services.redis is not None
    sids = [_text(s) for s in await services.redis.smembers(_all(services))]
    async with services.redis.pipeline(transaction=True) as pipe:
        for sid in sids:
            pipe.delete(_name(services, sid))
        pipe.delete(_all(services))
        found = await pipe.execute()
    return sum(1 for deleted in found[:-1] if deleted)
