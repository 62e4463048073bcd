"""A tap on a tracked link: where it goes (read, and kept: a link never changes once sent) and the
click recorded through the writer's batches, without the tap waiting for the commit."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection

from bot.domain.links import with_utm
from bot.domain.text import clean_answer
from bot.store.db import Reads
from bot.store.schema import clicks, links
from bot.store.statements import ENGAGED

MAX_USER_AGENT = 300
KEPT = 20_000  # links kept per web process (about 9 MB): a preview fetch and the tap come minutes apart

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
class Destination:
    """A tracked link: where a tap goes (UTM parameters added) and whose it is."""

    link_id: int
    subscriber_id: int
    campaign_id: int | None
    target: str
    created_at: datetime

    def live(self, at: datetime, lifetime: timedelta) -> bool:
        return at <= self.created_at + lifetime


@dataclass(frozen=True)
class Click:
    destination: Destination
    user_agent: str | None
    preview: bool  # a link-preview fetcher: recorded, never counted
    at: datetime


class Destinations:
    """Tracked links by code, read from the database once and kept (least recently tapped go
    first). The codes asked for while a read is under way are read together in the next one, given
    `patience` seconds (TimeoutError for every tap asking: one timer a read, not one a tap). An
    unknown code is never kept: a link made a moment later must work."""

    def __init__(self, reads: Reads, patience: float, capacity: int = KEPT) -> None:
        self._reads = reads
        self._patience = patience
        self._capacity = capacity
        self._kept: OrderedDict[str, Destination] = OrderedDict()
        self._asked: dict[str, asyncio.Future[Destination | None]] = {}
        self._reading: asyncio.Task[None] | None = None

    async def find(self, code: str) -> Destination | None:
        found = self._kept.get(code)
        if found is not None:
            self._kept.move_to_end(code)
            return found
        answer = self._asked.get(code)
        if answer is None:
            answer = self._asked[code] = asyncio.get_running_loop().create_future()
            if self._reading is None:
                self._reading = asyncio.create_task(self._read())
        return await asyncio.shield(answer)  # one tap gone away must not cancel the others' answer

    async def _read(self) -> None:
        try:
            while self._asked:
                asked, self._asked = self._asked, {}
                try:
                    async with asyncio.timeout(self._patience):
                        found = await self._reads.run(_destinations, sorted(asked))
                except Exception as exc:  # the database is down or slow: every tap asking is told
                    for answer in asked.values():
                        answer.set_exception(exc)
                    continue
                for code, answer in asked.items():
                    answer.set_result(self._keep(code, found.get(code)))
        finally:
            self._reading = None

    def _keep(self, code: str, found: Destination | None) -> Destination | None:
        if found is not None:
            self._kept[code] = found
            if len(self._kept) > self._capacity:
                self._kept.popitem(last=False)
        return found


def _destinations(conn: Connection, codes: list[str]) -> dict[str, Destination]:
    return {
        row.code: Destination(
            row.id,
            row.subscriber_id,
            row.campaign_id,
            with_utm(row.url, row.origin, row.origin_name),
            row.created_at,
        )
        for row in conn.execute(_LINKS_BY_CODE, {"codes": codes})
        if row.url  # blanked when its subscriber was erased: no longer valid
    }


def record_clicks(conn: Connection, taps: Sequence[Click]) -> list[bool]:
    """Store the clicks; a tap that is not a preview makes its subscriber engaged now."""
    if not taps:
        return []
    conn.execute(
        _INSERT_CLICKS,
        [
            {
                "link_id": tap.destination.link_id,
                "subscriber_id": tap.destination.subscriber_id,
                "campaign_id": tap.destination.campaign_id,
                "preview": tap.preview,
                # without control characters: PostgreSQL stores no NUL, and a log shows no escapes
                "user_agent": clean_answer(tap.user_agent or "")[:MAX_USER_AGENT] or None,
                "at": tap.at,
            }
            for tap in taps
        ],
    )
    engaged = [{"b_id": t.destination.subscriber_id, "b_at": t.at} for t in taps if not t.preview]
    if engaged:
        conn.execute(ENGAGED, engaged)
    return [True] * len(taps)
