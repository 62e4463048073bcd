"""An erasure, done: the database's part in one transaction with its line in the audit log, then
what Redis holds under the number (the sign-up throttle, the webhook's lock, the replies kept for
the carrier's retries of their messages). The command line, the admin API and the dashboard all
erase through here."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.engine import Connection

from bot.domain.phones import mask_phone
from bot.pipeline.erasure import Erased, erase
from bot.pipeline.suppression import SuppressionKey
from bot.store.audit import record

log = logging.getLogger(__name__)


def erase_and_record(
    conn: Connection,
    key: SuppressionKey,
    phone: str,
    who: str,
    address: str,
    why: str,
    now: datetime,
    user: str | None = None,
) -> Erased:
    """The erasure and its audit line (who, from where, why; the number masked), together."""
    done = erase(conn, key, phone, now)
    record(conn, now, address, "subscriber_erase", f"{mask_phone(phone)} by {who}: {why}", user)
    return done


async def forget_in_redis(redis: Redis | None, prefix: str, phone: str, erased: Erased) -> bool:
    """Remove the number's keys from Redis; False when it could not be reached (every one of them
    expires by itself within a day)."""
    if redis is None:
        return False
    names: list[Any] = [f"{prefix}signup:number:{phone}", f"{prefix}lock:{phone}"]
    names += [f"{prefix}sid:{sid}" for sid in erased.inbound_sids]
    try:
        for start in range(0, len(names), 500):
            await redis.delete(*names[start : start + 500])
    except (RedisError, OSError) as exc:
        log.warning(
            "erase: Redis not reachable (%s); its keys for %s expire within a day", exc, mask_phone(phone)
        )
        return False
    return True
