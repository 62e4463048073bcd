"""A/B tests: a campaign's 2–4 variants tried on a share of its audience, the better one sent to the
rest after a wait (Mautic's way: a test group, a metric, a wait, then the winner to everyone else).

Pure: who is in the test group and with which variant (reproducible from the campaign's seed),
which variant wins, and how sure one can be that it is better (a two-proportion z-test).
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from bot.domain.templates import LocalizedMessage

VARIANT_NAMES = ("a", "b", "c", "d")
SURE = 0.95  # the confidence a difference needs before the report calls it
SMALLEST = 5  # successes and failures each variant needs for the test's normal approximation


class Metric(StrEnum):
    CLICK_RATE = "click_rate"  # unique clickers per recipient sent to
    CONVERSION_RATE = "conversion_rate"  # attributed orders per recipient sent to


@dataclass(frozen=True)
class Variant:
    name: str  # a, b, c, d
    message: LocalizedMessage
    media: tuple[str, ...] = ()


@dataclass(frozen=True)
class ABTest:
    variants: tuple[Variant, ...]  # 2 to 4; the first is the campaign's own message
    share: float  # of the audience, tested (split evenly); the rest gets the winner
    metric: Metric = Metric.CLICK_RATE
    wait: timedelta = timedelta(hours=4)  # from the start of sending to picking the winner
    automatic: bool = True  # False: the winner is picked by hand (or none sent)


def assign(recipients: Sequence[int], variants: int, share: float, seed: str) -> dict[int, int | None]:
    """Each recipient's variant (an index), or None for the rest, who wait for the winner: a share
    of them, drawn at random from `seed`, split evenly; the same seed draws the same people."""
    ordered = sorted(recipients)
    random.Random(seed).shuffle(ordered)
    tested = min(len(ordered), max(variants, round(len(ordered) * share))) if ordered else 0
    chosen: dict[int, int | None] = dict.fromkeys(ordered)
    for position, recipient in enumerate(ordered[:tested]):
        chosen[recipient] = position % variants
    return chosen


@dataclass(frozen=True)
class Tally:
    sent: int  # recipients whose message was handed to the carrier
    successes: int  # unique clickers, or conversions, as the metric counts

    @property
    def rate(self) -> float | None:
        return self.successes / self.sent if self.sent else None


def winner(tallies: Mapping[str, Tally]) -> str:
    """The variant with the best rate; a tie goes to the earlier variant (the campaign's own)."""
    return max(sorted(tallies), key=lambda name: (tallies[name].rate or 0.0, -ord(name[0])))


@dataclass(frozen=True)
class Difference:
    best: str
    runner_up: str
    confidence: float | None  # 1 - the two-sided p-value; None when too small to call
    verdict: str  # what the report says


def difference(tallies: Mapping[str, Tally]) -> Difference | None:
    """How sure one can be that the best variant beats the next: a two-proportion z-test with the
    pooled proportion. Too small to call while any of the two has fewer than SMALLEST successes or
    failures (the normal approximation does not hold)."""
    ranked = sorted(tallies, key=lambda name: (-(tallies[name].rate or 0.0), name))
    if len(ranked) < 2:
        return None
    best, other = tallies[ranked[0]], tallies[ranked[1]]
    small = any(min(t.successes, t.sent - t.successes) < SMALLEST for t in (best, other))
    if small or not best.sent or not other.sent:
        return Difference(ranked[0], ranked[1], None, "too small to call")
    pooled = (best.successes + other.successes) / (best.sent + other.sent)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / best.sent + 1 / other.sent))
    if spread == 0:
        return Difference(ranked[0], ranked[1], None, "too small to call")
    z = ((best.rate or 0.0) - (other.rate or 0.0)) / spread
    confidence = 1 - math.erfc(abs(z) / math.sqrt(2))
    said = f"{ranked[0]} beats {ranked[1]}" if confidence >= SURE else "no clear difference yet"
    return Difference(ranked[0], ranked[1], round(confidence, 4), f"{said} ({confidence:.1%} confidence)")
