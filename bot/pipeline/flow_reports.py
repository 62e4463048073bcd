"""A flow's report: its runs, whom its messages reached, their clicks and what they earned."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, distinct, func, select
from sqlalchemy.engine import Connection

from bot.domain.benchmarks import FLOW_BAND
from bot.pipeline import coupons
from bot.pipeline.conversion_reports import earned, flow_recipients
from bot.store.schema import clicks, conversions, flow_runs, links


def report(conn: Connection, flow: str) -> dict[str, Any]:
    """Runs by status, recipients, unique clicks and click rate, conversions and revenue."""
    runs = {
        str(status): int(n)
        for status, n in conn.execute(
            select(flow_runs.c.status, func.count())
            .where(flow_runs.c.flow == flow)
            .group_by(flow_runs.c.status)
        )
    }
    recipients = flow_recipients(conn, flow)
    tapped = and_(links.c.origin == "flow", links.c.origin_name == flow, clicks.c.preview.is_(False))
    clickers = conn.execute(
        select(func.count(distinct(clicks.c.subscriber_id)))
        .select_from(clicks.join(links, links.c.id == clicks.c.link_id))
        .where(tapped)
    ).scalar_one()
    credited = and_(conversions.c.origin == "flow", conversions.c.origin_name == flow)
    return {
        "name": flow,
        "runs": runs,
        "recipients": recipients,
        "unique_clicks": int(clickers),
        "click_rate": round(int(clickers) / recipients, 4) if recipients else None,
        **earned(conn, credited, recipients, FLOW_BAND),
        **coupons.tally(conn, coupons.of_flow(flow)),
    }
