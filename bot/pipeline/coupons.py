"""Coupon codes made real: loaded from a store's export, given one to a recipient in the transaction
that stores their message, marked redeemed when an order names them.

"Never one code to two people" is the schema's: a code is one row (unique per pool), and giving it
is an UPDATE of a row still free. On PostgreSQL the free row is taken with FOR UPDATE SKIP LOCKED,
so concurrent writers each take a different one without waiting; SQLite's writers are serialised.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from bot.domain import coupons as domain
from bot.store.schema import coupon_codes

_GIVEN = select(coupon_codes.c.code).where(
    coupon_codes.c.pool == bindparam("b_pool"),
    coupon_codes.c.subscriber_id == bindparam("b_subscriber_id"),
    coupon_codes.c.origin == bindparam("b_origin"),
    coupon_codes.c.origin_name == bindparam("b_origin_name"),
)
_FREE = and_(coupon_codes.c.assigned_at.is_(None), coupon_codes.c.redeemed_at.is_(None))


def _claim(dialect: str) -> Any:
    """Give the pool's first free code: one statement, the code returned."""
    first_free = (
        select(coupon_codes.c.id)
        .where(coupon_codes.c.pool == bindparam("b_pool"), _FREE)
        .order_by(coupon_codes.c.id)
        .limit(1)
    )
    if dialect == "postgresql":
        first_free = first_free.with_for_update(skip_locked=True)
    return (
        update(coupon_codes)
        .where(coupon_codes.c.id == first_free.scalar_subquery(), _FREE)
        .values(
            subscriber_id=bindparam("b_subscriber_id"),
            origin=bindparam("b_origin"),
            origin_name=bindparam("b_origin_name"),
            campaign_id=bindparam("b_campaign_id"),
            message_ref=bindparam("b_ref"),
            assigned_at=bindparam("b_now"),
        )
        .returning(coupon_codes.c.code)
    )


_CLAIM = {"postgresql": _claim("postgresql"), "sqlite": _claim("sqlite")}
_GIVE_BACK = (
    update(coupon_codes)
    .where(coupon_codes.c.pool == bindparam("b_pool"), coupon_codes.c.code == bindparam("b_code"))
    .values(dict.fromkeys(("subscriber_id", "origin", "origin_name", "campaign_id", "message_ref")))
    .values(assigned_at=None)
)


@dataclass(frozen=True)
class For:
    """Whom a message's codes are for, and from what: the same again gets the same code."""

    subscriber_id: int
    origin: str  # "campaign:shoe_sale", "flow:welcome", "keyword:JOIN"
    ref: str  # the message's
    campaign_id: int | None = None


class CouponDesk:
    """Gives codes within one transaction (the caller's)."""

    def __init__(self, conn: Connection, now: datetime) -> None:
        self.conn = conn
        self.now = now
        self.given: dict[tuple[str, int, str], str] = {}  # this transaction's, before they are read back

    def swap(self, body: str, whom: For) -> str:
        """`body` with each coupon mark replaced by the recipient's code; domain.PoolEmpty when a
        pool has none left (what this message took from other pools is given back: it is held
        back whole)."""
        taken: list[tuple[str, int, str]] = []
        try:
            return domain.swap(body, lambda pool: self.code(pool, whom, taken))
        except domain.PoolEmpty:
            for key in taken:
                self.conn.execute(_GIVE_BACK, {"b_pool": key[0], "b_code": self.given.pop(key)})
            raise

    def code(self, pool: str, whom: For, taken: list[tuple[str, int, str]]) -> str | None:
        key = (pool, whom.subscriber_id, whom.origin)
        if key in self.given:
            return self.given[key]
        kind, _, name = whom.origin.partition(":")
        name = name or kind
        params = {
            "b_pool": pool,
            "b_subscriber_id": whom.subscriber_id,
            "b_origin": kind,
            "b_origin_name": name,
        }
        code: str | None = self.conn.scalar(_GIVEN, params)
        if code is None:
            claim = {**params, "b_campaign_id": whom.campaign_id, "b_ref": whom.ref, "b_now": self.now}
            code = self.conn.scalar(_CLAIM[self.conn.dialect.name], claim)
            if code is not None:
                taken.append(key)
        if code is not None:
            self.given[key] = code
        return code


# -- loading -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Loaded:
    added: int
    already: int  # in the pool before: a file loaded twice adds nothing


_LOAD = {
    "postgresql": postgresql.insert(coupon_codes).on_conflict_do_nothing(index_elements=["pool", "code"]),
    "sqlite": sqlite.insert(coupon_codes).on_conflict_do_nothing(index_elements=["pool", "code"]),
}


def load(conn: Connection, pool: str, codes: Sequence[str], now: datetime) -> Loaded:
    """Add `codes` to `pool`; those it has already are left as they are (given or not)."""
    insert = _LOAD[conn.dialect.name]
    added = 0
    for start in range(0, len(codes), 5000):
        chunk = codes[start : start + 5000]
        statement = insert.values([{"pool": pool, "code": code, "loaded_at": now} for code in chunk])
        added += conn.execute(statement).rowcount
    return Loaded(added, len(codes) - added)


@dataclass(frozen=True)
class PoolCount:
    pool: str
    loaded: int
    given: int
    redeemed: int

    @property
    def left(self) -> int:
        return self.loaded - self.given


def counts(conn: Connection, pools: Iterable[str] | None = None) -> dict[str, PoolCount]:
    """Each pool's codes: loaded, given, redeemed (the pools named, or every pool loaded)."""
    query = select(
        coupon_codes.c.pool,
        func.count(),
        func.count(coupon_codes.c.assigned_at),
        func.count(coupon_codes.c.redeemed_at),
    ).group_by(coupon_codes.c.pool)
    if pools is not None:
        query = query.where(coupon_codes.c.pool.in_(list(pools)))
    found = {row[0]: PoolCount(row[0], row[1], row[2], row[3]) for row in conn.execute(query)}
    for pool in pools or ():
        found.setdefault(pool, PoolCount(pool, 0, 0, 0))
    return found


# -- redeeming ---------------------------------------------------------------------------------------


def redeem(conn: Connection, orders: Sequence[tuple[str | None, Mapping[str, Any]]], now: datetime) -> int:
    """Mark the codes these orders ((order ref, properties)) were placed with as redeemed, once:
    the first order to name a code keeps it. Codes compare without case, as the store's do."""
    marked = 0
    for order_ref, properties in orders:
        given = domain.discount_codes(properties)
        if not given:
            continue
        spellings = sorted({form for code in given for form in (code, code.upper(), code.lower())})
        marked += conn.execute(
            update(coupon_codes)
            .where(
                coupon_codes.c.code.in_(spellings),
                func.upper(coupon_codes.c.code).in_([code.upper() for code in given]),
                coupon_codes.c.redeemed_at.is_(None),
            )
            .values(redeemed_at=now, order_ref=order_ref)
        ).rowcount
    return marked


def tally(conn: Connection, given: ColumnElement[bool]) -> dict[str, Any]:
    """{"coupons": {given, redeemed, redemption_rate}} of the codes `given` selects (a campaign's,
    a flow's), for its report; {} when it gave none (a report without coupons says nothing of them)."""
    count, redeemed = conn.execute(
        select(func.count(), func.count(coupon_codes.c.redeemed_at)).where(
            given, coupon_codes.c.assigned_at.is_not(None)
        )
    ).one()
    if not count:
        return {}
    return {"coupons": {"given": count, "redeemed": redeemed, "redemption_rate": round(redeemed / count, 4)}}


def of_campaign(campaign_id: int) -> ColumnElement[bool]:
    return coupon_codes.c.campaign_id == campaign_id


def of_flow(flow: str) -> ColumnElement[bool]:
    return and_(coupon_codes.c.origin == "flow", coupon_codes.c.origin_name == flow)
