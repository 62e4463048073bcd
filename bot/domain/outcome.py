"""What the domain decides for one subscriber, as data the pipeline carries out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from bot.domain.attribution import Windows
from bot.domain.compliance import Intent
from bot.domain.flow_runner import RunState
from bot.domain.inbox import Converse
from bot.domain.subscription import ConsentChange, Status


@dataclass(frozen=True)
class Policy:
    """Operator switches that change what the domain says, not what it records."""

    carrier_sends_confirmations: bool = False
    public_url: str | None = None  # for links to contact cards
    link_base: str | None = None  # where tracked links point; None: links go out untracked
    link_lifetime: timedelta = timedelta(days=365)  # a tracked link older than this answers 404
    mms_countries: frozenset[str] = frozenset({"US", "CA"})  # where a card goes as MMS, not as a link
    card_elsewhere: str = "link"  # outside mms_countries: "link" to the card, or "skip" the step
    attribution: Windows = field(default_factory=Windows)  # how long a click or a message may earn an order


@dataclass(frozen=True)
class Flows:
    """The subscriber's running flows, as the domain needs them."""

    active: frozenset[str] = frozenset()
    waiting: RunState | None = None  # a run whose question waits for an answer


@dataclass(frozen=True)
class RunChange:
    flow: str
    state: RunState | None  # None: the run has ended
    started: bool  # a new run (else: the running one moved on)
    left: tuple[str, int] | None = None  # ("answered" | "timed_out", the question's step) it left
    key: str = ""  # the run's event key (a flow run once per event)

    @property
    def name(self) -> tuple[str, str]:
        return (self.flow, self.key)


@dataclass(frozen=True)
class Outcome:
    intent: Intent
    status: Status
    word: str | None = None
    consent: tuple[ConsentChange, ...] = ()
    replies: tuple[str, ...] = ()
    updates: Mapping[str, Any] = field(default_factory=dict)  # subscriber fields to store
    keyword: str | None = None  # the program keyword texted, recorded as an event whatever the status
    misspelt: bool = False  # that keyword caught from a misspelling
    said: str | None = None  # how a sentence with a trigger word was read ("unclear: 'too many' ...")
    cancel_flows: bool = False  # opted out: every running flow ends now, nothing queued goes out
    media: Mapping[int, tuple[str, ...]] = field(default_factory=dict)  # reply index -> media URLs
    runs: tuple[RunChange, ...] = ()
    failed: tuple[str, ...] = ()  # a flow's messages that could not be written: why, each
    converse: Converse | None = None  # what the text does to their conversation with a person
