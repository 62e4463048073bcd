"""A/B tests in the database: the test group drawn when the audience is fixed, the winner picked
after the wait (by the worker, or by hand), the rest released to it, and each variant's figures.

The test group's recipients carry their variant (a-d); the rest wait (status `waiting`, no variant)
and, once the winner is known, become pending and get the campaign's `winner`. Exactly-once, pause,
cancel, smart sending and quiet hours are the campaign's own: the rest are ordinary recipients.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, distinct, func, select, update
from sqlalchemy.engine import Connection

from bot.domain.ab_tests import VARIANT_NAMES, Difference, Metric, Tally, assign, difference, winner
from bot.domain.campaigns import Status
from bot.domain.store_events import Money
from bot.store.schema import campaign_recipients, campaigns, clicks, conversions, messages

WAITING = "waiting"  # a recipient outside the test group, until the winner is known
NO_WINNER = "none"  # the marketer sent no winner: the rest are skipped
UNDECIDED = select(campaigns.c.id, campaigns.c.definition, campaigns.c.started_at).where(
    campaigns.c.status == Status.SENDING.value, campaigns.c.winner.is_(None)
)


class TestProblem(ValueError):
    pass


def draw(conn: Connection, campaign_id: int, test: Mapping[str, Any], seed: str) -> None:
    """The test group: a share of the recipients just fixed, each with a variant; the rest wait."""
    people = dict(
        conn.execute(
            select(campaign_recipients.c.subscriber_id, campaign_recipients.c.id).where(
                campaign_recipients.c.campaign_id == campaign_id
            )
        ).all()
    )
    chosen = assign(list(people), len(test["variants"]), float(test["share"]), seed)
    conn.execute(
        update(campaign_recipients)
        .where(campaign_recipients.c.id == bindparam("b_id"))
        .values(status=bindparam("b_status"), variant=bindparam("b_variant")),
        [
            {
                "b_id": people[subscriber],
                "b_status": "pending" if index is not None else WAITING,
                "b_variant": VARIANT_NAMES[index] if index is not None else None,
            }
            for subscriber, index in chosen.items()
        ],
    )


def _due(definition: Mapping[str, Any], started_at: datetime, now: datetime) -> bool:
    test = definition.get("test")
    if not test or not test.get("automatic", True):
        return False
    return bool(started_at + timedelta(seconds=float(test["wait_seconds"])) <= now)


def any_due(undecided: Sequence[Any], now: datetime) -> bool:
    """Whether one of these (UNDECIDED's rows, read without the write lock) is due a winner."""
    return any(_due(definition, started_at, now) for _, definition, started_at in undecided)


def decide_due(conn: Connection, now: datetime) -> list[tuple[int, str]]:
    """Each sending campaign whose automatic test's wait is over gets its winner, and its other
    recipients are released to it: [(campaign id, winner)]."""
    decided = []
    for campaign_id, definition, started_at in conn.execute(UNDECIDED).all():
        if not _due(definition, started_at, now):
            continue
        best = winner(tallies(conn, campaign_id, Metric(definition["test"]["metric"])))
        release(conn, campaign_id, best, now)
        decided.append((campaign_id, best))
    return decided


def pick(conn: Connection, campaign: Any, variant: str | None, now: datetime) -> None:
    """The marketer's own pick (`None`: send no winner), before or after the wait."""
    test = campaign.definition.get("test")
    if not test:
        raise TestProblem(f"campaign {campaign.name} has no A/B test")
    if campaign.winner is not None:
        raise TestProblem(f"campaign {campaign.name}: the winner was picked already ({campaign.winner})")
    if campaign.status not in (Status.SENDING.value, Status.PAUSED.value):
        raise TestProblem(f"campaign {campaign.name} is {campaign.status}")
    if variant is not None and variant not in test["variants"]:
        raise TestProblem(
            f"campaign {campaign.name} has no variant {variant!r} ({', '.join(test['variants'])})"
        )
    release(conn, campaign.id, variant or NO_WINNER, now)


def release(conn: Connection, campaign_id: int, chosen: str, now: datetime) -> None:
    """The waiting recipients go out with `chosen` (not before now), or are skipped if none is."""
    waiting = and_(campaign_recipients.c.campaign_id == campaign_id, campaign_recipients.c.status == WAITING)
    if chosen == NO_WINNER:
        conn.execute(update(campaign_recipients).where(waiting).values(status="skipped", reason="no_winner"))
    else:
        early = and_(waiting, campaign_recipients.c.send_after < now)
        conn.execute(update(campaign_recipients).where(early).values(send_after=now))
        conn.execute(update(campaign_recipients).where(waiting).values(status="pending", updated_at=now))
    conn.execute(
        update(campaigns)
        .where(campaigns.c.id == campaign_id)
        .values(winner=chosen, winner_at=now, updated_at=now)
    )


# -- each variant's figures ----------------------------------------------------------------------------


def _per_variant(conn: Connection, campaign_id: int, counted: Any, *joined: Any) -> dict[str, int]:
    tested = and_(
        campaign_recipients.c.campaign_id == campaign_id, campaign_recipients.c.variant.is_not(None)
    )
    query = select(campaign_recipients.c.variant, counted).select_from(campaign_recipients)
    for table, on in joined:
        query = query.join(table, on)
    return {
        str(v): int(n) for v, n in conn.execute(query.where(tested).group_by(campaign_recipients.c.variant))
    }


def _sent(conn: Connection, campaign_id: int, status: ColumnElement[bool] | None = None) -> dict[str, int]:
    handed = messages.c.handed_at.is_not(None) if status is None else status
    on = and_(messages.c.id == campaign_recipients.c.message_id, handed)
    return _per_variant(conn, campaign_id, func.count(), (messages, on))


def _people(table: Any, campaign_id: int, *more: ColumnElement[bool]) -> Any:
    return and_(
        table.c.campaign_id == campaign_id,
        table.c.subscriber_id == campaign_recipients.c.subscriber_id,
        *more,
    )


def tallies(conn: Connection, campaign_id: int, metric: Metric) -> dict[str, Tally]:
    """Each tested variant's recipients sent to and successes, as `metric` counts them."""
    sent = _sent(conn, campaign_id)
    if metric is Metric.CLICK_RATE:
        on = _people(clicks, campaign_id, clicks.c.preview.is_(False))
        won = _per_variant(conn, campaign_id, func.count(distinct(clicks.c.subscriber_id)), (clicks, on))
    else:
        on = _people(conversions, campaign_id, conversions.c.cancelled_at.is_(None))
        won = _per_variant(conn, campaign_id, func.count(distinct(conversions.c.id)), (conversions, on))
    return {name: Tally(sent.get(name, 0), won.get(name, 0)) for name in _tested(conn, campaign_id)}


def _tested(conn: Connection, campaign_id: int) -> list[str]:
    return sorted(_per_variant(conn, campaign_id, func.count()))


def report(conn: Connection, campaign: Any) -> dict[str, Any]:
    """The variants side by side, and how sure the difference is (for the campaign's report)."""
    test = campaign.definition["test"]
    recipients = _per_variant(conn, campaign.id, func.count())
    sent = _sent(conn, campaign.id)
    delivered = _sent(conn, campaign.id, messages.c.status == "delivered")
    clicked = tallies(conn, campaign.id, Metric.CLICK_RATE)
    converted = tallies(conn, campaign.id, Metric.CONVERSION_RATE)
    revenue = _revenue(conn, campaign.id)
    variants = {
        name: {
            "recipients": recipients[name],
            "sent": sent.get(name, 0),
            "delivered": delivered.get(name, 0),
            "unique_clicks": clicked[name].successes,
            "click_rate": _rounded(clicked[name].rate),
            "conversions": converted[name].successes,
            "conversion_rate": _rounded(converted[name].rate),
            "revenue": revenue.get(name, {}),
        }
        for name in sorted(recipients)
    }
    metric = Metric(test["metric"])
    found = difference(clicked if metric is Metric.CLICK_RATE else converted)
    return {
        "metric": metric.value,
        "share": test["share"],
        "wait_hours": round(float(test["wait_seconds"]) / 3600, 2),
        "automatic": test.get("automatic", True),
        "winner": campaign.winner,
        "winner_at": campaign.winner_at.isoformat() if campaign.winner_at else None,
        "variants": variants,
        "difference": _said(found),
    }


def _revenue(conn: Connection, campaign_id: int) -> dict[str, dict[str, str]]:
    on = _people(conversions, campaign_id, conversions.c.cancelled_at.is_(None))
    query = (
        select(campaign_recipients.c.variant, conversions.c.currency, func.sum(conversions.c.value_minor))
        .select_from(campaign_recipients.join(conversions, on))
        .where(campaign_recipients.c.campaign_id == campaign_id, campaign_recipients.c.variant.is_not(None))
        .group_by(campaign_recipients.c.variant, conversions.c.currency)
    )
    found: dict[str, dict[str, str]] = {}
    for variant, currency, minor in conn.execute(query):
        if currency and minor is not None:
            found.setdefault(str(variant), {})[str(currency)] = str(Money(int(minor), str(currency)).amount)
    return found


def _rounded(rate: float | None) -> float | None:
    return round(rate, 4) if rate is not None else None


def _said(found: Difference | None) -> dict[str, Any] | None:
    if found is None:
        return None
    return {
        "best": found.best,
        "runner_up": found.runner_up,
        "confidence": found.confidence,
        "verdict": found.verdict,
        "method": "two-proportion z-test, pooled, two-sided",
    }
