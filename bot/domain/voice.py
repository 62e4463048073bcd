"""Who we are talking to, and in which language: every reply, from a keyword or a flow, goes through here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.domain import replies
from bot.domain.compliance import Intent
from bot.domain.i18n import SOURCE_LANGUAGE, locale_for, negotiate, translations
from bot.domain.links import linker
from bot.domain.matcher import Match
from bot.domain.model import Program, ProgramInfo
from bot.domain.subscription import Status
from bot.domain.templates import LOCALE_KEY, LocalizedMessage


@dataclass(frozen=True)
class SubscriberState:
    """What the core needs to know of a subscriber; loaded before, saved after."""

    phone: str
    status: Status = Status.NEW
    language: str | None = None
    opt_in_source: str | None = None
    opt_in_keyword: str | None = None
    properties: Mapping[str, Any] = field(default_factory=dict)
    country: str | None = None  # as stored (from the number): spares parsing the number again


class Voice:
    """Who we are talking to, and in which language: every reply goes through here.

    A compliance word in another language is answered in that language (ALTO gets Spanish, even
    from an English subscriber, and changes nothing else); everything else in the subscriber's
    language, including a change this very message made (UNETE, ESPAÑOL); each negotiated down the
    locale chain (es_MX -> es -> the program's default) to a catalog smsbot has.
    """

    def __init__(
        self,
        found: Match,
        subscriber: SubscriberState,
        program: Program,
        updates: Mapping[str, Any] | None = None,
    ) -> None:
        self.found = found
        self.subscriber = subscriber
        self.program = program
        self.updates: Mapping[str, Any] = {} if updates is None else updates

    @classmethod
    def to(cls, subscriber: SubscriberState, program: Program) -> Voice:
        """The voice of a message nobody just texted (a flow step): the subscriber's own language."""
        return cls(NOTHING_TEXTED, subscriber, program)

    @property
    def language(self) -> str:
        default = self.program.info.default_language
        word = self.found.language
        if self.found.intent in _COMPLIANCE and word and word != SOURCE_LANGUAGE:
            return negotiate(word, default)
        return negotiate(self.updates.get("language") or self.subscriber.language, default)

    def say(self, template: str, **extra: str) -> str:
        language = self.language
        return replies.render(template, self.program.info, translations(language).gettext, language, **extra)

    def message(self, message: LocalizedMessage, properties: Mapping[str, Any], origin: str = "") -> str:
        """A marketer's message in the subscriber's language; its `link(...)`s marked with `origin`
        ("flow:welcome", "keyword:JOIN"), so the pipeline can track each one."""
        return message.render(self._context(properties, origin), self.language)

    def message_checked(
        self, message: LocalizedMessage, properties: Mapping[str, Any], origin: str = ""
    ) -> tuple[str, str | None]:
        """As `message`, with why it could not be written if it could not (else None)."""
        return message.render_checked(self._context(properties, origin), self.language)

    def _context(self, properties: Mapping[str, Any], origin: str) -> dict[str, Any]:
        subscriber = self.subscriber
        tags = built_in_tags(
            self.program.info, self.program.join_word, self.language, subscriber.phone, subscriber.country
        )
        return {**properties, **tags, "link": linker(origin)}


def built_in_tags(
    info: ProgramInfo, join: str | None, language: str, phone: str, country: str | None = None
) -> dict[str, Any]:
    """The value of every tag in `BUILT_IN_TAGS`, for one subscriber in one language."""
    return {
        **info.context(language),
        "join": join or "",
        "phone": phone,
        LOCALE_KEY: locale_for(language, phone, country),
    }


NOTHING_TEXTED = Match(Intent.OTHER)
_COMPLIANCE = frozenset({Intent.OPT_OUT, Intent.HELP, Intent.OPT_IN, Intent.UNCLEAR_OPT_OUT})
