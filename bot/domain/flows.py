"""Flows as data: the steps a keyword (or another flow) starts for one subscriber.

Compiled from YAML by `bot.program.flows`; run by `bot.domain.flow_runner`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time, timedelta
from enum import StrEnum

from bot.domain.automations import Automation
from bot.domain.templates import LocalizedMessage

SPLIT_ON_BUILT_IN = ("country", "language", "opt_in_source")


class StepKind(StrEnum):
    SEND = "send"
    SEND_VCARD = "send_vcard"
    WAIT = "wait"
    ASK = "ask"
    SPLIT = "split"
    START = "start"
    END = "end"


@dataclass(frozen=True)
class Step:
    kind: StepKind
    id: str | None = None
    message: LocalizedMessage | None = None  # send, ask (the question)
    media: tuple[str, ...] = ()
    card: str | None = None  # send_vcard
    wait: timedelta | None = None  # wait for a duration; ask: the timeout
    until: time | None = None  # wait until a time of day, local to the subscriber
    property: str | None = None  # ask
    invalid: LocalizedMessage | None = None  # ask: the re-ask once on an invalid answer
    interrupt: bool = True  # ask: a program keyword interrupts the question (False: it is an answer)
    split_on: str | None = None
    branches: Mapping[str, str] = field(default_factory=dict)  # value -> step id
    otherwise: str | None = None  # split: step id when no branch matches (None: go on)
    flow: str | None = None  # start


@dataclass(frozen=True)
class Flow:
    name: str
    steps: tuple[Step, ...]
    automation: Automation = field(default_factory=Automation)  # what store events do to it

    def index_of(self, step_id: str) -> int:
        return next(i for i, step in enumerate(self.steps) if step.id == step_id)
