"""A tap on a tracked link: where it goes, and the click recorded (through the writer's batches)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection

from bot.domain.links import with_utm
from bot.domain.text import clean_answer
from bot.store.schema import clicks, links

MAX_USER_AGENT = 300

_LINKS_BY_CODE = select(
    links.c.id,
    links.c.code,
    links.c.url,
    links.c.subscriber_id,
    links.c.campaign_id,
    links.c.origin,
    links.c.origin_name,
    links.c.created_at,
).where(links.c.code.in_(bindparam("codes", expanding=True)))
_INSERT_CLICKS = clicks.insert()


@dataclass(frozen=True)
class Click:
    code: str
    user_agent: str | None
    preview: bool  # a link-preview fetcher: recorded, never counted
    at: datetime


def record_clicks(conn: Connection, taps: Sequence[Click], expire_after: timedelta) -> list[str | None]:
    """Each tap's target (with UTM parameters), or None for a code unknown or expired; the clicks
    on live links are stored."""
    found = {row.code: row for row in conn.execute(_LINKS_BY_CODE, {"codes": sorted({t.code for t in taps})})}
    targets: list[str | None] = []
    stored = []
    for tap in taps:
        link = found.get(tap.code)
        if link is None or link.created_at + expire_after < tap.at:
            targets.append(None)
            continue
        targets.append(with_utm(link.url, link.origin, link.origin_name))
        stored.append(
            {
                "link_id": link.id,
                "subscriber_id": link.subscriber_id,
                "campaign_id": link.campaign_id,
                "preview": tap.preview,
                # without control characters: PostgreSQL stores no NUL, and a log shows no escapes
                "user_agent": clean_answer(tap.user_agent or "")[:MAX_USER_AGENT] or None,
                "at": tap.at,
            }
        )
    if stored:
        conn.execute(_INSERT_CLICKS, stored)
    return targets
