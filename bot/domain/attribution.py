"""Which message earned an order: the last campaign or flow message whose tracked link the
subscriber clicked within the click window before the order, otherwise the last one delivered to
them within the receipt window; at most one, else none. (Klaviyo's SMS defaults are 5 days and 12
hours, Postscript's 7 days and 24 hours; ours are 5 days and 24 hours, both configurable.)"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Windows:
    click: timedelta = timedelta(days=5)
    receipt: timedelta = timedelta(hours=24)


@dataclass(frozen=True)
class Touch:
    """A message the subscriber clicked through or received before the order."""

    at: datetime  # when they clicked it, or when it was handed to the carrier
    message_id: int | None
    origin: str  # campaign | flow
    origin_name: str
    campaign_id: int | None


@dataclass(frozen=True)
class Credit:
    via: str  # click | receipt
    touch: Touch


def credit(
    ordered_at: datetime, last_click: Touch | None, last_receipt: Touch | None, windows: Windows
) -> Credit | None:
    """The message an order placed at `ordered_at` is attributed to, given the last click and the
    last message received before it (each None when there was none)."""
    if last_click is not None and ordered_at - windows.click <= last_click.at <= ordered_at:
        return Credit("click", last_click)
    if last_receipt is not None and ordered_at - windows.receipt <= last_receipt.at <= ordered_at:
        return Credit("receipt", last_receipt)
    return None
