"""When a campaign starts, and when each recipient's message may go."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.domain.campaigns import Campaign, Pace, Timing
from bot.domain.templates import LocalizedMessage, compile_template

NEW_YORK, LOS_ANGELES = ZoneInfo("America/New_York"), ZoneInfo("America/Los_Angeles")
SALE = Campaign(
    "sale",
    "shoe_fans",
    LocalizedMessage({"en": compile_template("Sale! Reply STOP to opt out")}, "en"),
    timing=Timing.LOCAL,
    send_at=datetime(2026, 12, 5, 10, 0),
)


def test_at_ten_local_time_each_subscriber_gets_it_at_ten_in_their_own_zone() -> None:
    started = datetime(2026, 12, 4, 20, 0, tzinfo=UTC)
    pace = Pace.of(SALE.definition(), started, total=2)
    assert pace.send_after(0, NEW_YORK) == datetime(2026, 12, 5, 15, 0, tzinfo=UTC)
    assert pace.send_after(1, LOS_ANGELES) == datetime(2026, 12, 5, 18, 0, tzinfo=UTC)


def test_a_local_time_already_past_somewhere_goes_at_once_there() -> None:
    started = datetime(2026, 12, 5, 16, 0, tzinfo=UTC)  # 11:00 in New York, 08:00 in Los Angeles
    pace = Pace.of(SALE.definition(), started, total=2)
    assert pace.send_after(0, NEW_YORK) == started
    assert pace.send_after(1, LOS_ANGELES) == datetime(2026, 12, 5, 18, 0, tzinfo=UTC)


def test_a_local_time_campaign_starts_when_the_first_zone_reaches_it() -> None:
    assert SALE.starts_at(NEW_YORK) == datetime(2026, 12, 4, 20, 0, tzinfo=UTC)  # 10:00 at UTC+14
    at_brand = replace(SALE, timing=Timing.AT)
    assert at_brand.starts_at(NEW_YORK) == datetime(2026, 12, 5, 15, 0, tzinfo=UTC)
    assert replace(SALE, timing=Timing.MANUAL).starts_at(NEW_YORK) is None
    assert replace(SALE, draft=True).starts_at(NEW_YORK) is None  # a draft's schedule is not followed


def test_spreading_gives_each_recipient_a_later_slot() -> None:
    started = datetime(2026, 12, 5, 15, 0, tzinfo=UTC)
    spread = replace(SALE, timing=Timing.MANUAL, send_at=None, spread_minutes=60)
    pace = Pace.of(spread.definition(), started, total=4)
    assert [pace.send_after(i, UTC) - started for i in range(4)] == [
        timedelta(minutes=m) for m in (0, 15, 30, 45)
    ]


def test_the_same_campaign_renamed_or_rescheduled_has_the_same_fingerprint() -> None:
    renamed = replace(SALE, name="sale_copy", send_at=datetime(2020, 1, 1, 10, 0))
    assert renamed.fingerprint == SALE.fingerprint
    reworded = replace(SALE, message=LocalizedMessage({"en": compile_template("Other. STOP to end")}, "en"))
    assert reworded.fingerprint != SALE.fingerprint
