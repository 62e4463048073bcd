"""The keyword YAML as the marketer writes it. Defaults live here; see the README's reference."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.domain.ab_tests import Metric
from bot.domain.model import KeywordKind, MatchMode
from bot.domain.properties import PropertyType


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Text = str | dict[str, str]  # one text, or one per language: {en: "...", es: "..."}


class ComplianceSection(_Strict):
    opt_out: list[str] = Field(default_factory=list)  # whole-message words
    help: list[str] = Field(default_factory=list)
    opt_in: list[str] = Field(default_factory=list)
    opt_out_phrases: list[str] = Field(default_factory=list)  # a request wherever it stands in a message


class ProgramSection(_Strict):
    name: Text = Field(min_length=1)
    brand: str = Field(min_length=1)
    help_contact: str = Field(min_length=1)
    frequency: Text = "Msg frequency varies"
    default_language: str = "en"
    timezone: str = "UTC"  # the brand's: campaign dates and times, "today" in segments
    languages: list[str] = Field(default_factory=list)  # the languages it speaks (default: the default one)
    compliance: dict[str, ComplianceSection] = Field(
        default_factory=dict
    )  # more reserved words, per language
    fallback: Text | None = None
    reply_to_unknown: bool = True
    not_subscribed: Text | None = None
    reply_to_strangers: bool = True


class PropertySection(_Strict):
    type: PropertyType
    choices: list[str] = Field(default_factory=list)
    max_length: int = Field(160, ge=1, le=1600)  # text: longer answers are re-asked


class KeywordSection(_Strict):
    type: KeywordKind = KeywordKind.OPT_IN
    also: list[str] = Field(default_factory=list)
    source: str | None = None
    language: str | None = None
    double_opt_in: bool = False
    match: MatchMode = MatchMode.FIRST_WORD
    exact: bool = False  # True: no typo tolerance
    reply: Text | None = None
    # what an opt-in keyword answers someone already subscribed (SHOES after JOIN): its interest
    # acknowledged ("Got it, shoe news too") rather than "you are already subscribed"
    already_subscribed: Text | None = None
    flow: str | None = None
    set: dict[str, Any] = Field(default_factory=dict)
    add: dict[str, Any] = Field(default_factory=dict)
    remove: dict[str, Any] = Field(default_factory=dict)
    clear: list[str] = Field(default_factory=list)

    @field_validator("also", "clear", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value


class ContactCardSection(_Strict):
    name: str = Field(min_length=1)  # the name shown on the phone
    organisation: str | None = None
    phones: list[str] = Field(default_factory=list)
    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    url: str | None = Field(default=None, pattern=r"^https?://\S+$")
    logo: str | None = None  # an image file beside the YAML, or an http(s) URL


class VariantSection(_Strict):
    message: Text
    media: list[str] = Field(default_factory=list)


class ABTestSection(_Strict):
    variants: dict[str, VariantSection]  # b, c, d: the campaign's own message is variant a
    share: float = Field(20, gt=0, lt=100)  # percent of the audience tested, split evenly
    metric: Metric = Metric.CLICK_RATE
    wait: str = "4h"  # from the start of sending to the winner
    winner: Literal["automatic", "manual"] = "automatic"


class CampaignSection(_Strict):
    segment: str = Field(min_length=1)
    message: Text
    media: list[str] = Field(default_factory=list)  # https:// URLs: sent as MMS
    send_at: datetime | None = None  # "2026-12-05 10:00", the brand's wall clock (or each subscriber's)
    local_time: bool = False  # send_at in each subscriber's own zone
    draft: bool = False  # true: the schedule is not followed (sent only with `smsbot campaign send`)
    smart_sending: float | bool = 24  # hours: skip whoever got marketing this recently; false: off
    spread_over_minutes: float = Field(0, ge=0, le=7 * 24 * 60)
    max_segments: int = Field(3, ge=1, le=10)  # a longer message is an error
    test: ABTestSection | None = None  # an A/B test of 2-4 variants


class OfficeHoursSection(_Strict):
    days: list[str] = Field(default_factory=lambda: ["mon", "tue", "wed", "thu", "fri"])
    opens: str = "09:00"  # the program's time zone
    closes: str = "17:00"


class AutoReplySection(_Strict):
    open: Text  # in office hours (or always, with none)
    closed: Text | None = None  # outside them


class InboxSection(_Strict):
    marketing_waits: str = "2h"  # after an open conversation's last message; "0m": never waits
    auto_reply: Text | AutoReplySection | None = None  # once per conversation, to a text nobody understood
    office_hours: OfficeHoursSection | None = None
    saved_replies: dict[str, Text] = Field(default_factory=dict)  # canned answers, with template tags


class CouponPoolSection(_Strict):
    description: str = ""  # what the codes give ("15% off, one use"), for the dashboard
    low_at: int = Field(0, ge=0)  # check and `coupons list` warn when fewer codes than this are left


class KeywordFile(_Strict):
    program: ProgramSection | None = None
    inbox: InboxSection | None = None
    contact_cards: dict[str, ContactCardSection] = Field(default_factory=dict)
    flows: dict[str, Any] = Field(default_factory=dict)  # checked step by step by program/flows.py
    properties: dict[str, PropertyType | PropertySection] = Field(default_factory=dict)
    keywords: dict[str, KeywordSection | None] = Field(default_factory=dict)
    campaigns: dict[str, CampaignSection] = Field(default_factory=dict)
    coupons: dict[str, CouponPoolSection | None] = Field(default_factory=dict)  # pools of unique codes
    segments: dict[str, Any] = Field(
        default_factory=dict
    )  # checked condition by condition by program/segments.py
