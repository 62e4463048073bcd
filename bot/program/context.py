"""What compiling a program has found so far, shared by each part of the compiler.

Every part (messages, keywords, contact cards, flows) reports here with file:line, and reads what
earlier parts declared: the program's words, its languages, properties and compliance words.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.domain.compliance import ComplianceWord
from bot.domain.coupons import CouponPool
from bot.domain.model import ProgramInfo
from bot.domain.properties import BUILT_IN, PropertySpec
from bot.program.yamlfile import Problem, YamlDoc

Loc = list[str | int]


SAMPLE_LINK_BASE = "https://sms.example.com"  # when no public URL is configured


@dataclass
class Compiling:
    info: ProgramInfo
    languages: tuple[str, ...]  # the languages the program speaks, the default first
    link_base: str = SAMPLE_LINK_BASE  # where short links point: their length counts in segments
    table: dict[str, ComplianceWord] = field(default_factory=dict)  # folded word -> compliance meaning
    properties: dict[str, PropertySpec] = field(default_factory=lambda: dict(BUILT_IN))
    scope: frozenset[str] = frozenset()  # names a message may use here besides properties ("event")
    event_fields: frozenset[str] = frozenset()  # the event's fields every event that starts it has
    coupons: dict[str, CouponPool] = field(default_factory=dict)  # the pools `coupon("...")` may name
    segment_names: frozenset[str] = frozenset()  # every file's segments, for `trigger: {enters: ...}`
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)  # warnings and notes: the program still loads

    def error(self, doc: YamlDoc, loc: Loc, message: str) -> None:
        self.errors.append(Problem(str(doc.path), doc.line_of(loc), message))

    def note(self, doc: YamlDoc, loc: Loc, message: str, severity: str = "warning") -> None:
        self.warnings.append(Problem(str(doc.path), doc.line_of(loc), message, severity))
