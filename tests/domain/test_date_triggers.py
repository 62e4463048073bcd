"""Date triggers: a date property's day, every year, in each subscriber's own zone."""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from bot.domain.automations import Automation, Trigger
from bot.domain.date_triggers import DateTrigger, candidates_endings, due_today, month_days, next_day

BIRTHDAY = DateTrigger("birthday", time(10, 0))
LA, PARIS = ZoneInfo("America/Los_Angeles"), ZoneInfo("Europe/Paris")


def test_29_february_is_kept_on_28_february_in_other_years_only() -> None:
    assert month_days(date(2027, 2, 28)) == ("02-28", "02-29")
    assert month_days(date(2028, 2, 28)) == ("02-28",)  # 2028 has its own 29th
    assert month_days(date(2028, 2, 29)) == ("02-29",)


def test_a_birthday_comes_at_ten_in_the_subscribers_own_zone() -> None:
    now = datetime(2026, 12, 6, 16, 0, tzinfo=UTC)  # 08:00 in Los Angeles, 17:00 in Paris
    due = due_today(BIRTHDAY, "--12-06", LA, now)
    assert due is not None and due.key == "2026"
    assert due.at == datetime(2026, 12, 6, 10, 0, tzinfo=LA)
    late = due_today(BIRTHDAY, "1990-12-06", PARIS, now)  # past ten there already: at once
    assert late is not None and late.at == now
    assert due_today(BIRTHDAY, "--12-07", LA, now) is None  # tomorrow in Los Angeles
    assert due_today(BIRTHDAY, None, LA, now) is None


def test_the_database_is_asked_for_every_day_that_is_today_somewhere() -> None:
    now = datetime(2026, 12, 6, 11, 0, tzinfo=UTC)  # the 5th at UTC-12, the 7th at UTC+14
    assert set(candidates_endings(now)) == {"12-05", "12-06", "12-07"}


def test_chat_brings_a_birthday_forward_to_its_next_day() -> None:
    now = datetime(2026, 12, 6, 16, 0, tzinfo=UTC)
    assert next_day("--04-23", LA, now) == date(2027, 4, 23)
    assert next_day("--12-06", LA, now) == date(2026, 12, 6)
    assert next_day("--02-29", LA, now) == date(2027, 2, 28)


def test_an_order_ends_a_win_back_only_when_it_comes_after_the_one_that_started_it() -> None:
    win_back = Automation(Trigger("order_placed"), frozenset({"order_placed"}))
    began = datetime(2026, 10, 1, tzinfo=UTC)
    assert not win_back.ends("order_placed", began, began)  # its own order
    assert win_back.ends("order_placed", datetime(2026, 10, 2, tzinfo=UTC), began)
    cart = Automation(Trigger("checkout_started"), frozenset({"order_placed"}))
    assert cart.ends("order_placed", began, began)  # another type: at the same moment ends it too
