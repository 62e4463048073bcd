"""What a program did over a period, from its hourly counts: list growth, opt-ins by keyword and
source, the opt-out rate, deliveries, clicks, conversions and revenue; each beside the period before.

Pure: takes counts (a day of the program's time zone, metric, label, n, amount) and returns figures.
The counts are kept by UTC hour; `shifts` tells the database how to place those hours in local days.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo

from bot.domain.benchmarks import CAMPAIGN_BAND, FLOW_BAND, opt_out_verdict, verdict

PERIODS = {"today": 1, "7": 7, "30": 30, "90": 90}  # the choices offered, in days
LONGEST = 366  # days a custom period may span
EARLIEST, LATEST = date(1971, 1, 1), date(9998, 12, 31)  # room for the period before, and the day after
MARKETING = ("campaign", "flow")


class PeriodProblem(ValueError):
    """A period that cannot be shown (an unknown choice, a start after its end, too long)."""


@dataclass(frozen=True)
class Count:
    """What happened on one day (of the program's zone): n of `metric` under `label`, and an amount."""

    day: date
    metric: str
    label: str
    n: int
    amount: int


Shifts = tuple[tuple[int, int], ...]  # (from this UTC hour since the epoch, the zone's offset in hours)


def shifts(zone: tzinfo, first_hour: int, end_hour: int) -> Shifts:
    """The zone's offsets from UTC over [first_hour, end_hour), in whole hours, each from the hour it
    starts (a change of daylight saving time starts a new one). Half-hour zones place each hour by
    its start."""

    def offset(hour: int) -> int:
        found = datetime.fromtimestamp(hour * 3600, zone).utcoffset()
        return int(found.total_seconds() // 3600) if found is not None else 0

    found = [(first_hour, offset(first_hour))]
    day = first_hour
    while day < end_hour:
        step = min(24, end_hour - day)
        if offset(day + step) != found[-1][1]:  # a change within this day: find its hour
            changed = next(h for h in range(day + 1, day + step + 1) if offset(h) != found[-1][1])
            found.append((changed, offset(changed)))
        day += step
    return tuple(found)


@dataclass(frozen=True)
class Period:
    first: date  # inclusive, in the program's time zone
    last: date  # inclusive
    by: str = "day"  # day | week

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def before(self) -> Period:
        """The period of the same length just before this one."""
        return Period(self.first - timedelta(days=self.days), self.first - timedelta(days=1), self.by)

    def hours(self, zone: tzinfo) -> tuple[int, int]:
        """[first, end) in UTC hours since the epoch, covering every local day of the period."""
        start = datetime.combine(self.first, time(), zone).timestamp()
        end = datetime.combine(self.last + timedelta(days=1), time(), zone).timestamp()
        return int(start // 3600), -int(-end // 3600)

    def bucket(self, day: date) -> date:
        return day - timedelta(days=day.weekday()) if self.by == "week" else day

    def buckets(self) -> list[date]:
        found = {self.bucket(self.first + timedelta(days=i)) for i in range(self.days)}
        return sorted(found)


def period(choice: str, today: date, by: str = "day", start: str = "", end: str = "") -> Period:
    """The period a page asks for: a choice of PERIODS ending today, or "custom" from start to end."""
    if by not in ("day", "week"):
        raise PeriodProblem("group by day or week")
    if choice in PERIODS:
        return Period(today - timedelta(days=PERIODS[choice] - 1), today, by)
    if choice != "custom":
        raise PeriodProblem(f"period: one of {', '.join(PERIODS)} or custom")
    try:
        first, last = date.fromisoformat(start), date.fromisoformat(end)
    except ValueError:
        raise PeriodProblem("a custom period needs a start and an end date (YYYY-MM-DD)") from None
    if first > last:
        raise PeriodProblem("the start comes after the end")
    if first < EARLIEST or last > LATEST:
        raise PeriodProblem(f"dates from {EARLIEST} to {LATEST}")
    if (last - first).days >= LONGEST:
        raise PeriodProblem(f"a period spans at most {LONGEST} days")
    return Period(first, last, by)


@dataclass
class Totals:
    """Each metric's count (and amount) by label over a stretch of time."""

    n: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    amount: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))

    def add(self, count: Count) -> None:
        self.n[count.metric][count.label] += count.n
        self.amount[count.metric][count.label] += count.amount

    def of(self, metric: str, *labels: str) -> int:
        found = self.n.get(metric, {})
        return sum(found.get(label, 0) for label in labels) if labels else sum(found.values())

    def by_label(self, metric: str) -> dict[str, int]:
        return {label: n for label, n in sorted(self.n.get(metric, {}).items()) if n}


@dataclass(frozen=True)
class Bucket:
    """One day (or week) of the period, for the charts."""

    first: date
    joined: int
    left: int
    sent: int
    marketing: int  # of them campaign and flow messages
    delivered: int
    clicks: int

    @property
    def net(self) -> int:
        return self.joined - self.left

    @property
    def opt_out_rate(self) -> float | None:
        return rate(self.left, self.marketing)


@dataclass(frozen=True)
class Summary:
    period: Period
    now: Totals
    before: Totals
    series: list[Bucket]


def summarize(counts: Iterable[Count], period: Period) -> Summary:
    """Counts spanning this period and the one before, by day of the program's zone."""
    now, before = Totals(), Totals()
    earlier = period.before()
    days: dict[date, Totals] = defaultdict(Totals)
    for count in counts:
        day = count.day
        if period.first <= day <= period.last:
            now.add(count)
            days[period.bucket(day)].add(count)
        elif earlier.first <= day <= earlier.last:
            before.add(count)
    series = [
        Bucket(
            first,
            days[first].of("joined"),
            days[first].of("left"),
            days[first].of("sent"),
            days[first].of("sent", *MARKETING),
            days[first].of("delivered"),
            days[first].of("clicks"),
        )
        for first in period.buckets()
    ]
    return Summary(period, now, before, series)


def rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass(frozen=True)
class Rates:
    """The rates a marketer is judged by, over one stretch of time."""

    opt_out: float | None  # opt-outs ÷ marketing messages sent
    delivery: float | None  # delivered ÷ sent (every kind)
    click: float | None  # unique clickers ÷ marketing messages sent
    campaign_conversion: float | None  # orders credited to campaigns ÷ campaign messages sent
    flow_conversion: float | None  # orders credited to flows ÷ the flows' recipients

    @property
    def opt_out_verdict(self) -> str | None:
        return opt_out_verdict(self.opt_out)

    @property
    def campaign_verdict(self) -> str | None:
        return verdict(self.campaign_conversion, CAMPAIGN_BAND)

    @property
    def flow_verdict(self) -> str | None:
        return verdict(self.flow_conversion, FLOW_BAND)


def rates(totals: Totals) -> Rates:
    marketing = totals.of("sent", *MARKETING)
    return Rates(
        opt_out=rate(totals.of("left"), marketing),
        delivery=rate(totals.of("delivered"), totals.of("sent")),
        click=rate(totals.of("clickers"), marketing),
        campaign_conversion=rate(conversions(totals, "campaign"), totals.of("sent", "campaign")),
        # per recipient, Klaviyo's definition: a campaign sends each recipient one message, a flow
        # may send several (its recipients: its runs counted at their first message)
        flow_conversion=rate(conversions(totals, "flow"), totals.of("recipients", "flow")),
    )


def conversions(totals: Totals, origin: str) -> int:
    return sum(n for label, n in totals.n.get("conversions", {}).items() if label.split(":")[0] == origin)


def revenue(totals: Totals, metric: str = "conversions") -> dict[str, dict[str, int]]:
    """Minor units by the label's owner (an origin, an opt-in source), then currency."""
    found: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for label, minor in totals.amount.get(metric, {}).items():
        owner, currency = owned(label)
        found[owner][currency] += minor
    return {owner: dict(by) for owner, by in sorted(found.items())}


def owned(label: str) -> tuple[str, str]:
    """A money count's owner and currency: "campaign:USD", "web:spring:EUR", "flow:welcome:USD"
    (the currency last: an owner may hold a colon)."""
    owner, _, currency = label.rpartition(":")
    return owner, currency or "USD"


AllTime = dict[str, dict[str, tuple[int, int]]]  # metric -> label -> (n, amount), since the start


def n_of(found: AllTime, metric: str, label: str) -> int:
    return found.get(metric, {}).get(label, (0, 0))[0]


def money_by_owner(counts: dict[str, tuple[int, int]]) -> dict[str, dict[str, tuple[int, int]]]:
    """(n, minor units) by owner, then currency, from one money metric's counts."""
    found: dict[str, dict[str, tuple[int, int]]] = {}
    for label, (n, minor) in counts.items():
        owner, currency = owned(label)
        found.setdefault(owner, {})[currency] = (n, minor)
    return found
