"""Where a message stands on its way to the phone: a status never moves back down this ladder
(carriers' callbacks can arrive out of order)."""

from __future__ import annotations

PENDING, DISPATCHING = "pending", "dispatching"
RANK = {
    PENDING: -2,  # in our outbox
    DISPATCHING: -1,  # being handed to the carrier's API
    "accepted": 0,
    "scheduled": 0,
    "queued": 1,
    "sending": 2,
    "sent": 3,
    "delivered": 4,
    "undelivered": 4,
    "failed": 4,
    "read": 5,
    "canceled": 4,
}


def moves_forward(new: str, current: str | None) -> bool:
    """May a message at `current` be said to be at `new` now? Equal ranks may replace each other."""
    return RANK.get(new, 0) >= RANK.get(current or "", 0)
