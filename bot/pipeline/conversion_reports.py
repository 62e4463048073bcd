"""What a campaign's or a flow's messages earned: conversions (orders attributed to them),
conversion rate (conversions ÷ recipients, Klaviyo's definition), revenue and revenue per
recipient by currency, and where the rate stands against Klaviyo's SMS benchmark band."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.engine import Connection

from bot.domain.benchmarks import verdict
from bot.domain.store_events import Money
from bot.store.schema import conversions, flow_runs, messages


def earned(
    conn: Connection, credited: ColumnElement[bool], recipients: int, band: tuple[float, float]
) -> dict[str, Any]:
    """The conversions `credited` selects, against `recipients` (those the messages reached); an
    order cancelled since takes its credit back."""
    credited = and_(credited, conversions.c.cancelled_at.is_(None))
    by_currency = conn.execute(
        select(conversions.c.currency, func.count(), func.sum(conversions.c.value_minor))
        .where(credited)
        .group_by(conversions.c.currency)
    ).all()
    by_source = conn.execute(
        select(conversions.c.opt_in_source, func.count())
        .where(credited)
        .group_by(conversions.c.opt_in_source)
    ).all()
    count = sum(int(n) for _, n, _ in by_currency)
    rate = count / recipients if recipients else None
    revenue = {cur or "unknown": _amount(total or 0, cur) for cur, _, total in by_currency}
    return {
        "conversions": count,
        "conversion_rate": round(rate, 4) if rate is not None else None,
        "revenue": {cur: str(amount) for cur, amount in revenue.items()},
        "revenue_per_recipient": {
            cur: str((amount / recipients).quantize(Decimal("0.01")))
            for cur, amount in revenue.items()
            if recipients
        },
        "conversions_by_opt_in_source": {str(source or "unknown"): int(n) for source, n in by_source},
        "benchmark": {"band": list(band), "verdict": verdict(rate, band)},
    }


def _amount(minor: int, currency: str | None) -> Decimal:
    return Money(int(minor), currency or "USD").amount


def flow_recipients(conn: Connection, flow: str) -> int:
    """Subscribers a flow's messages were handed over to."""
    reached = (
        select(func.count(func.distinct(messages.c.subscriber_id)))
        .select_from(messages.join(flow_runs, flow_runs.c.id == messages.c.run_id))
        .where(flow_runs.c.flow == flow, messages.c.handed_at.is_not(None))
    )
    return int(conn.execute(reached).scalar_one())
