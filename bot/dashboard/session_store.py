"""Dashboard sessions kept on the server (Redis), behind the signed cookie: a logout ends the
session at once (a copy of the cookie opens nothing), "log out everywhere" ends them all, and a
session unused for IDLE seconds ends by itself (OWASP ASVS 3.3). The cookie's own expiry stays the
absolute limit (`sessions.LIFETIME`)."""

from __future__ import annotations

from bot.services import Services

IDLE = 30 * 60  # seconds without a page before a session ends


def _name(services: Services, sid: str) -> str:
    return f"{services.settings.redis_prefix}dashboard:session:{sid}"


def _all(services: Services) -> str:
    return f"{services.settings.redis_prefix}dashboard:sessions"


async def open_session(services: Services, sid: str) -> None:
    assert services.redis is not None
    async with services.redis.pipeline(transaction=True) as pipe:
        pipe.set(_name(services, sid), "1", ex=IDLE)
        pipe.sadd(_all(services), sid)
        await pipe.execute()


async def alive(services: Services, sid: str) -> bool:
    """Is the session still open? Using it keeps it open for another IDLE seconds (one command:
    SET XX only touches a key that is still there)."""
    assert services.redis is not None
    return bool(await services.redis.set(_name(services, sid), "1", ex=IDLE, xx=True))


async def close(services: Services, sid: str) -> None:
    assert services.redis is not None
    async with services.redis.pipeline(transaction=True) as pipe:
        pipe.delete(_name(services, sid))
        pipe.srem(_all(services), sid)
        await pipe.execute()


async def close_all(services: Services) -> int:
    """End every session; how many were open."""
    assert services.redis is not None
    sids = [
        s.decode() if isinstance(s, bytes) else str(s) for s in await services.redis.smembers(_all(services))
    ]
    async with services.redis.pipeline(transaction=True) as pipe:
        for sid in sids:
            pipe.delete(_name(services, sid))
        pipe.delete(_all(services))
        found = await pipe.execute()
    return sum(1 for deleted in found[:-1] if deleted)
