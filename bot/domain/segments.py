"""Segments: who a message is for, as conditions (data). `program/segments` reads them from YAML and
checks them; `store/segments` compiles them to SQL, the same meaning on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

MAX_CONDITIONS = 100  # per segment, as Klaviyo caps them: a segment is read by people


@dataclass(frozen=True)
class All:
    conditions: tuple[Condition, ...]  # none: everyone


@dataclass(frozen=True)
class AnyOf:
    conditions: tuple[Condition, ...]


@dataclass(frozen=True)
class Not:
    condition: Condition


class Field(StrEnum):
    """Subscriber fields a condition names directly."""

    STATUS = "status"
    LANGUAGE = "language"
    OPT_IN_SOURCE = "opt_in_source"
    OPT_IN_KEYWORD = "opt_in_keyword"


@dataclass(frozen=True)
class IsOneOf:
    field: Field
    values: tuple[str, ...]


class Op(StrEnum):
    EQUALS = "equals"
    ONE_OF = "one_of"
    CONTAINS = "contains"  # a list property holds the value
    GREATER = "greater"
    LESS = "less"
    IS_SET = "is_set"  # value True: has a value; False: has none


@dataclass(frozen=True)
class Property:
    name: str
    op: Op
    value: Any  # already coerced to the property's type (a tuple for one_of)


@dataclass(frozen=True)
class Texted:
    keyword: str  # the keyword's name: its alternates and misspellings are recorded under it
    within_days: int | None = None
    at_least: int = 1


@dataclass(frozen=True)
class InSegment:
    name: str


Condition = All | AnyOf | Not | IsOneOf | Property | Texted | InSegment


@dataclass(frozen=True)
class Segment:
    name: str
    condition: Condition


def size(condition: Condition) -> int:
    """How many conditions a segment holds, counting those inside all/any/not."""
    if isinstance(condition, All | AnyOf):
        return 1 + sum(size(c) for c in condition.conditions)
    if isinstance(condition, Not):
        return 1 + size(condition.condition)
    return 1


def members(condition: Condition) -> set[str]:
    """The segments a condition refers to."""
    if isinstance(condition, All | AnyOf):
        return set().union(*(members(c) for c in condition.conditions))
    if isinstance(condition, Not):
        return members(condition.condition)
    return {condition.name} if isinstance(condition, InSegment) else set()
