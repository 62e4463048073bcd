"""The compiled keyword program: immutable, built once, swapped whole on reload."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain.campaigns import Campaign
from bot.domain.compliance import DEFAULT_TABLE, ComplianceWord
from bot.domain.coupons import CouponPool
from bot.domain.flows import Flow
from bot.domain.inbox import Inbox
from bot.domain.properties import PropertySpec
from bot.domain.segments import Segment
from bot.domain.templates import LocalizedMessage
from bot.domain.text import fold
from bot.domain.typos import TypoIndex


class KeywordKind(StrEnum):
    OPT_IN = "opt_in"  # subscribes whoever texts it
    PREFERENCE = "preference"  # changes a subscriber's properties
    LANGUAGE = "language"  # switches the subscriber's language (ESPAÑOL, FRANÇAIS)


class MatchMode(StrEnum):
    FIRST_WORD = "first_word"
    WHOLE_MESSAGE = "whole_message"


class ChangeOp(StrEnum):
    SET = "set"
    ADD = "add"  # to a list property
    REMOVE = "remove"  # from a list property
    CLEAR = "clear"


@dataclass(frozen=True)
class PropertyChange:
    op: ChangeOp
    name: str
    value: Any = None

    def apply(self, properties: dict[str, Any]) -> None:
        if self.op is ChangeOp.SET:
            properties[self.name] = self.value
        elif self.op is ChangeOp.CLEAR:
            properties.pop(self.name, None)
        else:
            current = list(properties.get(self.name) or [])
            for item in self.value:
                if self.op is ChangeOp.ADD and item not in current:
                    current.append(item)
                elif self.op is ChangeOp.REMOVE and item in current:
                    current.remove(item)
            properties[self.name] = current


@dataclass(frozen=True)
class ProgramInfo:
    name: str
    brand: str
    help_contact: str
    frequency: str
    default_language: str = "en"
    timezone: str = "UTC"  # the brand's zone (IANA name): campaign times, "today" in segments
    translated: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # language -> {name, frequency}

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def context(self, language: str | None = None) -> dict[str, Any]:
        words = self.translated.get(language or "", {})
        return {
            "program": words.get("program", self.name),
            "brand": self.brand,
            "help_contact": self.help_contact,
            "frequency": words.get("frequency", self.frequency),
        }


CARD_PATH = "/vcards/{name}.vcf"  # where a contact card is served (an aiohttp route as written)


def card_path(name: str) -> str:
    return CARD_PATH.format(name=name)


def is_card_path(url: str) -> bool:
    """Is this (a URL ending in) the path of a contact card?"""
    head, _, tail = CARD_PATH.partition("{name}")
    return head in url and url.endswith(tail)


@dataclass(frozen=True)
class ContactCard:
    name: str  # the card's key, as in CARD_PATH
    text: str  # the serialized vCard, built once when the program loads

    @property
    def filename(self) -> str:
        return f"{self.name}.vcf"


@dataclass(frozen=True)
class Keyword:
    name: str  # the keyword as the marketer wrote it, e.g. "JOIN"
    kind: KeywordKind
    words: tuple[str, ...]  # folded forms that trigger it, the name's first
    source: str  # opt-in source label recorded with the consent
    language: str | None = None
    double_opt_in: bool = False
    match: MatchMode = MatchMode.FIRST_WORD
    exact: bool = False
    reply: LocalizedMessage | None = None
    already_subscribed: LocalizedMessage | None = None  # its answer to someone already subscribed
    flow: str | None = None
    changes: tuple[PropertyChange, ...] = ()


@dataclass(frozen=True)
class Program:
    info: ProgramInfo
    keywords: Mapping[str, Keyword]  # by name
    index: Mapping[str, Keyword]  # folded word -> keyword
    fallback: LocalizedMessage | None = None  # reply to unknown words from a subscriber; None: standard
    not_subscribed: LocalizedMessage | None = None  # reply to unknown words from a non-subscriber
    reply_to_unknown: bool = True  # False: unknown words from subscribers get no reply
    reply_to_strangers: bool = True  # False: unknown words from non-subscribers get no reply
    properties: Mapping[str, PropertySpec] = field(default_factory=dict)
    languages: tuple[str, ...] = ("en",)  # the languages it speaks, the default first
    contact_cards: Mapping[str, ContactCard] = field(default_factory=dict)
    flows: Mapping[str, Flow] = field(default_factory=dict)
    segments: Mapping[str, Segment] = field(default_factory=dict)
    campaigns: Mapping[str, Campaign] = field(default_factory=dict)
    compliance: Mapping[str, ComplianceWord] = field(default_factory=lambda: DEFAULT_TABLE)
    typos: TypoIndex | None = None  # over the words that accept typos
    # A program's own opt-out phrases per language, folded (program.compliance.<lang>.opt_out_phrases)
    opt_out_phrases: Mapping[str, tuple[tuple[str, ...], ...]] = field(default_factory=dict)
    inbox: Inbox = field(default_factory=Inbox)  # the conversations inbox's settings
    coupons: Mapping[str, CouponPool] = field(default_factory=dict)  # pools of unique codes, by name
    fingerprint: str = ""  # hash of the files it came from

    @cached_property  # read for every message with a stop verb beside other words
    def own_words(self) -> frozenset[str]:
        """Its keywords', brand's and name's words, folded: "stop join", "stop acme" stop us."""
        named = [*self.index, self.info.brand, self.info.name]
        return frozenset(word for name in named for word in fold(name).split())

    @cached_property  # read for every message that may advertise it
    def join_word(self) -> str | None:
        """The keyword to advertise to someone who is not subscribed."""
        for keyword in self.keywords.values():
            if keyword.kind is KeywordKind.OPT_IN and not keyword.double_opt_in:
                return keyword.name
        return None
