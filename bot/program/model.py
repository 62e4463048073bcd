"""The compiled keyword program: immutable, built once, swapped whole on reload."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bot.core.compliance import DEFAULT_TABLE, ComplianceWord
from bot.program.templates import MessageTemplate


class KeywordKind(StrEnum):
    OPT_IN = "opt_in"


class MatchMode(StrEnum):
    FIRST_WORD = "first_word"
    WHOLE_MESSAGE = "whole_message"


@dataclass(frozen=True)
class ProgramInfo:
    name: str
    brand: str
    help_contact: str
    frequency: str
    default_language: str = "en"

    def context(self) -> dict[str, Any]:
        return {
            "program": self.name,
            "brand": self.brand,
            "help_contact": self.help_contact,
            "frequency": self.frequency,
        }


@dataclass(frozen=True)
class Keyword:
    name: str  # the keyword as the marketer wrote it, e.g. "JOIN"
    kind: KeywordKind
    words: tuple[str, ...]  # folded forms that trigger it, the name's first
    source: str  # opt-in source label recorded with the consent
    language: str | None = None
    double_opt_in: bool = False
    match: MatchMode = MatchMode.FIRST_WORD
    reply: MessageTemplate | None = None
    flow: str | None = None


@dataclass(frozen=True)
class Program:
    info: ProgramInfo
    keywords: Mapping[str, Keyword]  # by name
    index: Mapping[str, Keyword]  # folded word -> keyword
    fallback: MessageTemplate | None = (
        None  # reply to unknown words from a subscriber; None: the standard one
    )
    not_subscribed: MessageTemplate | None = None  # reply to unknown words from a non-subscriber
    reply_to_unknown: bool = True  # False: unknown words from subscribers get no reply
    reply_to_strangers: bool = True  # False: unknown words from non-subscribers get no reply
    compliance: Mapping[str, ComplianceWord] = field(default_factory=lambda: DEFAULT_TABLE)
    fingerprint: str = ""  # hash of the files it came from

    @property
    def join_word(self) -> str | None:
        """The keyword to advertise to someone who is not subscribed."""
        for keyword in self.keywords.values():
            if keyword.kind is KeywordKind.OPT_IN and not keyword.double_opt_in:
                return keyword.name
        return next(iter(self.keywords), None)
