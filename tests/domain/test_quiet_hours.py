"""Quiet hours against a controllable clock: every time below is an explicit instant."""

from datetime import UTC, datetime, time

import pytest

from bot.domain.quiet_hours import QuietHours, Window

HOURS = QuietHours()
SAN_FRANCISCO = "+14155550123"  # America/Los_Angeles
LONDON = "+447700900123"  # Europe/London
PARIS = "+33612345678"  # Europe/Paris


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_inside_the_window_marketing_goes_now() -> None:
    now = utc(2026, 11, 24, 3, 0)  # 19:00 in San Francisco
    assert HOURS.next_allowed(now, SAN_FRANCISCO) == now


def test_after_nine_pm_local_it_waits_for_eight_am_local() -> None:
    now = utc(2026, 11, 24, 6, 0)  # 22:00 PST
    assert HOURS.next_allowed(now, SAN_FRANCISCO) == utc(2026, 11, 24, 16, 0)  # 08:00 PST


def test_before_eight_am_local_it_waits_the_same_day() -> None:
    now = utc(2026, 11, 24, 7, 30)  # 07:30 in London
    assert HOURS.next_allowed(now, LONDON) == utc(2026, 11, 24, 8, 0)


def test_the_window_opens_at_local_time_across_a_dst_change() -> None:
    # 8 March 2026: clocks in California jump from 02:00 to 03:00; 08:00 PDT is 15:00 UTC.
    assert HOURS.next_allowed(utc(2026, 3, 8, 9, 0), SAN_FRANCISCO) == utc(2026, 3, 8, 15, 0)
    assert HOURS.next_allowed(utc(2026, 3, 7, 9, 0), SAN_FRANCISCO) == utc(2026, 3, 7, 16, 0)  # 08:00 PST


def test_a_window_per_country() -> None:
    hours = QuietHours(per_country={"FR": Window(time(10, 0), time(20, 0))})
    now = utc(2026, 11, 24, 8, 30)  # 09:30 in Paris: open for the default window, closed for France's
    assert HOURS.allows(now, PARIS)
    assert hours.next_allowed(now, PARIS) == utc(2026, 11, 24, 9, 0)  # 10:00 CET


def test_a_number_that_spans_time_zones_must_be_inside_the_window_everywhere() -> None:
    phone = "+12085550123"  # 208: Idaho, Mountain (Boise) and Pacific time
    assert {z.key for z in HOURS.zones(phone)} == {"America/Boise", "America/Los_Angeles"}
    now = utc(2026, 11, 24, 15, 30)  # 08:30 in Boise, 07:30 in Los Angeles
    assert not HOURS.allows(now, phone)
    assert HOURS.next_allowed(now, phone) == utc(2026, 11, 24, 16, 0)  # 08:00 in Los Angeles
    late = utc(2026, 11, 25, 3, 30)  # 20:30 in Boise, 19:30 in Los Angeles: both open
    assert HOURS.next_allowed(late, phone) == late
    assert HOURS.next_allowed(utc(2026, 11, 25, 4, 30), phone) == utc(2026, 11, 25, 16, 0)  # 21:30 in Boise


def test_a_number_the_library_places_everywhere_in_the_country_uses_the_fallback_zone() -> None:
    hours = QuietHours(fallback_zone="America/New_York")
    assert [z.key for z in hours.zones("+15005550006")] == ["America/New_York"]


def test_an_unplaceable_number_uses_the_fallback_zone() -> None:
    hours = QuietHours(fallback_zone="UTC")
    assert hours.next_allowed(utc(2026, 11, 24, 22, 0), "+999") == utc(2026, 11, 25, 8, 0)


def test_a_window_must_open_before_it_closes() -> None:
    with pytest.raises(ValueError, match="open before it closes"):
        Window(time(21, 0), time(8, 0))
