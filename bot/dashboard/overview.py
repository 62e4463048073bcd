"""The dashboard's Overview: what the program did over a period, beside the period before, from the
hourly counts kept as the data arrives (never a scan of the messages)."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from bot.dashboard import auth
from bot.dashboard.render import render
from bot.domain import activity as figures
from bot.domain.benchmarks import CAMPAIGN_BAND, FLOW_BAND, OPT_OUT_RISK, OPT_OUT_WATCH
from bot.domain.gate import SAID
from bot.domain.store_events import Money
from bot.http.admin import read
from bot.services import SERVICES
from bot.store import activity
from bot.store.schema import subscribers


@auth.logged_in
async def overview(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    zone = services.program.current.info.zone
    query = request.query
    try:
        period = figures.period(
            query.get("period", "30"),
            datetime.now(zone).date(),
            query.get("by", "day"),
            query.get("start", ""),
            query.get("end", ""),
        )
    except figures.PeriodProblem as exc:
        return render(request, "overview.html", problem=str(exc), choices=figures.PERIODS, asked=query)
    first, _ = period.before().hours(zone)
    _, end = period.hours(zone)
    counts, statuses = await read(services, _read, first, end, figures.shifts(zone, first, end))
    summary = figures.summarize(counts, period)
    return render(
        request,
        "overview.html",
        summary=summary,
        now=figures.rates(summary.now),
        before=figures.rates(summary.before),
        revenue=_revenue(summary.now),
        revenue_before=_revenue(summary.before),
        statuses=statuses,
        total=sum(statuses.values()),
        charts=json.dumps(_charts(summary)).replace("<", "\\u003c"),  # never ends its <script>
        choices=figures.PERIODS,
        asked=query,
        held_back_reasons=SAID,
        bands={"campaign": CAMPAIGN_BAND, "flow": FLOW_BAND, "watch": OPT_OUT_WATCH, "risk": OPT_OUT_RISK},
    )


def _read(
    conn: Connection, first: int, end: int, shifts: figures.Shifts
) -> tuple[list[figures.Count], dict[str, int]]:
    rows = conn.execute(select(subscribers.c.status, func.count()).group_by(subscribers.c.status))
    return activity.read(conn, first, end, shifts), {str(status): int(n) for status, n in rows}


def _revenue(totals: figures.Totals) -> dict[str, dict[str, Decimal]]:
    """Revenue credited to campaigns and flows, by currency, as amounts."""
    return {
        origin: {currency: Money(minor, currency).amount for currency, minor in by.items()}
        for origin, by in figures.revenue(totals).items()
    }


def _charts(summary: figures.Summary) -> dict[str, Any]:
    """What the page's charts draw (overview.js reads it): one point per day or week."""
    series = summary.series
    return {
        "labels": [b.first.isoformat() for b in series],
        "joined": [b.joined for b in series],
        "left": [b.left for b in series],
        "net": [b.net for b in series],
        "sent": [b.sent for b in series],
        "delivered": [b.delivered for b in series],
        "clicks": [b.clicks for b in series],
        "opt_out": [None if b.opt_out_rate is None else round(b.opt_out_rate * 100, 3) for b in series],
        "watch": OPT_OUT_WATCH * 100,
        "risk": OPT_OUT_RISK * 100,
    }
