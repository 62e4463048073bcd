"""Periods and figures of the Overview, from hourly counts placed in the program's days."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.domain.activity import Count, Period, PeriodProblem, period, rates, revenue, shifts, summarize

NEW_YORK = ZoneInfo("America/New_York")
TODAY = date(2026, 11, 27)


def hour(at: datetime) -> int:
    return int(at.timestamp() // 3600)


def test_a_choice_ends_today_and_the_period_before_has_the_same_length() -> None:
    week = period("7", TODAY)
    assert (week.first, week.last, week.days) == (date(2026, 11, 21), TODAY, 7)
    assert (week.before().first, week.before().last) == (date(2026, 11, 14), date(2026, 11, 20))
    assert period("today", TODAY).days == 1


@pytest.mark.parametrize(
    ("choice", "start", "end", "by", "problem"),
    [
        ("custom", "2026-11-20", "2026-11-01", "day", "the start comes after the end"),
        ("custom", "", "", "day", "needs a start and an end"),
        ("custom", "2024-01-01", "2026-01-01", "day", "at most 366 days"),
        ("forever", "", "", "day", "one of today, 7, 30, 90 or custom"),
        ("7", "", "", "month", "day or week"),
        ("custom", "0001-01-01", "0001-01-02", "day", "dates from 1971-01-01"),
        ("custom", "9999-12-30", "9999-12-31", "day", "to 9998-12-31"),
    ],
)
def test_a_period_that_cannot_be_shown_says_why(
    choice: str, start: str, end: str, by: str, problem: str
) -> None:
    with pytest.raises(PeriodProblem, match=problem):
        period(choice, TODAY, by, start, end)


def test_a_period_covers_the_utc_hours_of_its_local_days() -> None:
    days = Period(date(2026, 11, 26), TODAY)
    first, end = days.hours(NEW_YORK)
    assert first == hour(datetime(2026, 11, 26, 5, tzinfo=UTC)) and end - first == 48


def test_shifts_follow_daylight_saving_time_to_the_hour() -> None:
    # New York leaves daylight saving time at 06:00 UTC on 1 November 2026 (02:00 EDT -> 01:00 EST).
    first, end = hour(datetime(2026, 10, 30, tzinfo=UTC)), hour(datetime(2026, 11, 3, tzinfo=UTC))
    assert shifts(NEW_YORK, first, end) == ((first, -4), (hour(datetime(2026, 11, 1, 6, tzinfo=UTC)), -5))
    assert shifts(UTC, first, end) == ((first, 0),)
    kolkata = shifts(ZoneInfo("Asia/Kolkata"), first, end)  # +5:30: each hour placed by its start
    assert kolkata == ((first, 5),)


def test_weeks_start_on_monday_and_the_period_before_is_kept_apart() -> None:
    weeks = Period(date(2026, 11, 16), date(2026, 11, 29), "week")
    counts = [
        Count(date(2026, 11, 17), "left", "STOP", 1, 0),
        Count(date(2026, 11, 25), "left", "STOP", 2, 0),
        Count(date(2026, 11, 10), "left", "STOP", 5, 0),  # the period before
        Count(date(2026, 11, 1), "left", "STOP", 7, 0),  # before that: not shown
    ]
    summary = summarize(counts, weeks)
    assert [(b.first, b.left) for b in summary.series] == [(date(2026, 11, 16), 1), (date(2026, 11, 23), 2)]
    assert (summary.now.of("left"), summary.before.of("left")) == (3, 5)


def test_rates_and_their_verdicts_against_the_benchmarks() -> None:
    counts = [
        Count(TODAY, "sent", "campaign", 1000, 0),
        Count(TODAY, "sent", "flow", 100, 0),
        Count(TODAY, "recipients", "flow", 40, 0),  # its runs: two and a half messages each
        Count(TODAY, "sent", "reply", 400, 0),  # replies are not marketing: not in the opt-out rate
        Count(TODAY, "delivered", "campaign", 1200, 0),
        Count(TODAY, "left", "STOP", 11, 0),
        Count(TODAY, "clickers", "campaign", 55, 0),
        Count(TODAY, "conversions", "campaign:USD", 15, 150000),
        Count(TODAY, "conversions", "flow:USD", 3, 9000),
    ]
    summary = summarize(counts, Period(TODAY, TODAY))
    found = rates(summary.now)
    assert found.opt_out == pytest.approx(0.01) and found.opt_out_verdict == "watch"
    assert found.delivery == pytest.approx(0.8) and found.click == pytest.approx(0.05)
    assert found.campaign_conversion == pytest.approx(0.015) and found.campaign_verdict == "within"
    # per recipient, not per message (3 ÷ 100 would read a flow with several messages too low)
    assert found.flow_conversion == pytest.approx(0.075) and found.flow_verdict == "above"
    assert revenue(summary.now) == {"campaign": {"USD": 150000}, "flow": {"USD": 9000}}
    assert rates(summary.before).opt_out is None  # nothing sent before: no rate, no verdict
