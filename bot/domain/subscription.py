"""The subscription state machine: new, pending, subscribed, unsubscribed.

One shared `transitions` machine serves every subscriber; a message's model is a throwaway object
holding the state name, and every transition it takes becomes a consent record.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from transitions import EventData, Machine


class Status(StrEnum):
    NEW = "new"
    PENDING = "pending"
    SUBSCRIBED = "subscribed"
    UNSUBSCRIBED = "unsubscribed"


class Action(StrEnum):
    """What a consent record says happened."""

    OPT_IN = "opt_in"
    OPT_IN_REQUESTED = "opt_in_requested"
    OPT_IN_CONFIRMED = "opt_in_confirmed"
    OPT_OUT = "opt_out"
    OPT_OUT_ASKED = "opt_out_asked"  # an unclear opt-out sentence: we asked; no change (not a transition)


@dataclass(frozen=True)
class ConsentChange:
    action: Action
    from_status: Status
    to_status: Status
    keyword: str | None
    source: str | None


_TRANSITIONS: list[dict[str, Any]] = [
    {"trigger": Action.OPT_IN.value, "source": ["new", "pending", "unsubscribed"], "dest": "subscribed"},
    {"trigger": Action.OPT_IN_REQUESTED.value, "source": ["new", "unsubscribed"], "dest": "pending"},
    {"trigger": Action.OPT_IN_CONFIRMED.value, "source": "pending", "dest": "subscribed"},
    {"trigger": Action.OPT_OUT.value, "source": ["new", "pending", "subscribed"], "dest": "unsubscribed"},
]


class SubscriptionModel:
    """A subscriber's state for the length of one decision."""

    def __init__(self, status: Status) -> None:
        self.state: str = status.value
        self.changes: list[ConsentChange] = []

    @property
    def status(self) -> Status:
        return Status(self.state)

    def record(self, event: EventData) -> None:
        assert event.transition is not None
        self.changes.append(
            ConsentChange(
                action=Action(event.event.name),
                from_status=Status(event.transition.source),
                to_status=Status(str(event.transition.dest)),
                keyword=event.kwargs.get("keyword"),
                source=event.kwargs.get("source"),
            )
        )


MACHINE = Machine(
    model=None,
    states=[s.value for s in Status],
    transitions=_TRANSITIONS,
    initial=Status.NEW.value,
    auto_transitions=False,
    ignore_invalid_triggers=True,
    send_event=True,
    after_state_change="record",
)


def fire(
    model: SubscriptionModel, action: Action, keyword: str | None = None, source: str | None = None
) -> bool:
    """Take `action` if the current state allows it; True when the state changed."""
    return bool(MACHINE.events[action.value].trigger(model, keyword=keyword, source=source))
