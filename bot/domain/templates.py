"""Message templates, compiled once when the program loads.

Most marketer messages only use `{{ name }}` and `{{ name | default("there") }}`; those are
rendered by a few lines here, exactly as Jinja2 would render them, because compiling a Jinja2
template costs about a millisecond and a program can have thousands. Anything else (filters,
conditions, loops) goes to Jinja2's sandbox.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal
from jinja2 import ChainableUndefined, TemplateSyntaxError, meta, pass_context
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from bot.domain.coupons import mark as coupon_mark
from bot.domain.links import mark

log = logging.getLogger(__name__)
LOCALE_KEY = "locale"  # the render context's formatting locale, e.g. "fr_CA"
# The one list of built-in tags a message may use besides the declared properties. `smsbot check`
# accepts exactly these, and `bot.domain.voice.built_in_tags` fills in every one of them.
PROGRAM_TAGS = frozenset({"program", "brand", "help_contact", "frequency", "join"})  # the same for all
SUBSCRIBER_TAGS = frozenset({"phone", LOCALE_KEY})  # the subscriber's own number and formatting locale
BUILT_IN_TAGS = PROGRAM_TAGS | SUBSCRIBER_TAGS
# {{ link("https://...") }}: a tracked short link (domain/links.py); {{ coupon("pool") }}: a code of
# the pool, the recipient's own (domain/coupons.py)
FUNCTIONS = frozenset({"link", "coupon"})


# A property a subscriber has not given yet renders empty (use `| default("there")`); a name no
# one declared is an error of `smsbot check`, not of the message. Chainable: a field an event lacks
# (`event.line_items[0].title` of a checkout without lines) is undefined all along the chain, so
# its `default(...)` applies rather than the lookup failing.
class _Sandbox(ImmutableSandboxedEnvironment):
    def unsafe_undefined(self, obj: Any, attribute: str) -> Any:
        """An unsafe attribute fails the render at once (a chainable undefined would hide it)."""
        raise SecurityError(f"access to attribute {attribute!r} of {type(obj).__name__!r} is unsafe")


_ENV = _Sandbox(autoescape=False, undefined=ChainableUndefined, keep_trailing_newline=False)


def _locale(context: Any) -> str:
    return str(context.get(LOCALE_KEY) or "en_US")


@pass_context
def _currency(context: Any, value: Any, code: str = "USD") -> str:
    return format_currency(value, code, locale=_locale(context))


@pass_context
def _number(context: Any, value: Any) -> str:
    return format_decimal(value, locale=_locale(context))


@pass_context
def _date(context: Any, value: Any, form: str = "medium") -> str:
    when = value if isinstance(value, date) else date.fromisoformat(str(value))
    return format_date(when, form, locale=_locale(context))


@pass_context
def _plural(context: Any, count: Any, one: str, other: str) -> str:
    """{{ points | plural("point", "points") }}: the language's own plural rule picks the form."""
    return one if Locale.parse(_locale(context)).plural_form(count) == "one" else other


_ENV.filters.update(currency=_currency, number=_number, date=_date, plural=_plural)
_ENV.globals["link"] = mark  # a voice passes its own, which knows the origin
_ENV.globals["coupon"] = coupon_mark
_SIMPLE_TAG = re.compile(
    r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*"
    r"(?:\|\s*default\(\s*(?:\"([^\"\\{}]*)\"|'([^'\\{}]*)')\s*\)\s*)?\}\}"
)
_JINJA_MARKS = ("{{", "{%", "{#", "}}", "%}", "#}")

Part = str | tuple[str, str]  # literal text, or (name, default when undefined)


class TemplateProblem(ValueError):
    def __init__(self, message: str, line: int = 1) -> None:
        super().__init__(message)
        self.line = line


@dataclass(frozen=True)
class MessageTemplate:
    source: str
    names: frozenset[str]  # the tags it uses, for the checker
    _parts: tuple[Part, ...] | None = None  # the simple form, when it has one
    _compiled: Any = None  # a Jinja2 template otherwise

    def render(self, context: Mapping[str, Any]) -> str:
        """Never raises: a message that cannot render from a subscriber's data must not fail the
        transaction that records their opt-out. Tried again with the built-in tags only (no
        subscriber properties), then given up (no reply) and logged."""
        try:
            return self.render_strict(context)
        except Exception:
            log.exception("message %r could not be rendered", self.source[:60])
        try:
            return self.render_strict({k: v for k, v in context.items() if k in BUILT_IN_TAGS | FUNCTIONS})
        except Exception:
            return ""

    def render_checked(self, context: Mapping[str, Any]) -> tuple[str, str | None]:
        """(the text, None), or ("", why it could not be written): for a message the worker would
        otherwise drop without a word (a flow's step), so that it is marked failed with the reason."""
        try:
            return self.render_strict(context), None
        except Exception as exc:
            log.error("message %r could not be rendered: %s", self.source[:60], exc)
            return "", f"template: {exc.__class__.__name__}: {exc}"[:200]

    def render_strict(self, context: Mapping[str, Any]) -> str:
        if self._parts is not None and len(self._parts) == 1:
            return self.source  # no tags at all: the marketer's text as written
        if self._parts is not None:
            text = "".join(
                part if isinstance(part, str) else (str(context[part[0]]) if part[0] in context else part[1])
                for part in self._parts
            )
        else:
            text = str(self._compiled.render(context))
        return " ".join(text.split())


def _simple(source: str) -> tuple[Part, ...] | None:
    parts: list[Part] = []
    position = 0
    for found in _SIMPLE_TAG.finditer(source):
        parts.append(source[position : found.start()])
        default = found.group(2) if found.group(2) is not None else (found.group(3) or "")
        parts.append((found.group(1), default))
        position = found.end()
    parts.append(source[position:])
    literal = "".join(p for p in parts if isinstance(p, str))
    return None if any(mark in literal for mark in _JINJA_MARKS) else tuple(parts)


def parse_template(source: str) -> Any:
    """The Jinja2 syntax tree of a message (for the checker); raises TemplateSyntaxError."""
    return _ENV.parse(source)


def compile_template(source: str) -> MessageTemplate:
    parts = _simple(source)
    if parts is not None:
        return MessageTemplate(source, frozenset(p[0] for p in parts if not isinstance(p, str)), parts)
    try:
        ast = _ENV.parse(source)
        compiled = _ENV.from_string(source)
    except TemplateSyntaxError as exc:
        raise TemplateProblem(f"template error: {exc.message}", exc.lineno or 1) from exc
    return MessageTemplate(source, frozenset(meta.find_undeclared_variables(ast)), None, compiled)


@dataclass(frozen=True)
class LocalizedMessage:
    """One message in several languages; a missing translation falls back to the default language."""

    variants: Mapping[str, MessageTemplate]  # language -> template
    default: str

    @property
    def names(self) -> frozenset[str]:
        return frozenset().union(*(t.names for t in self.variants.values()))

    @property
    def source(self) -> str:
        return self.template(self.default).source

    def template(self, language: str | None) -> MessageTemplate:
        if language:
            found = self.variants.get(language) or self.variants.get(language.split("_")[0])
            if found is not None:
                return found
        return self.variants.get(self.default) or next(iter(self.variants.values()))

    def render(self, context: Mapping[str, Any], language: str | None = None) -> str:
        return self.template(language).render(context)

    def render_checked(
        self, context: Mapping[str, Any], language: str | None = None
    ) -> tuple[str, str | None]:
        return self.template(language).render_checked(context)
