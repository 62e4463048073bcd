"""Marketer messages compiled and checked: tags, languages, encoding and segments, CTIA wording."""

from __future__ import annotations

import re

from bot.domain.coupons import sample as sample_coupons
from bot.domain.links import CODE_LENGTH, short_url, swap
from bot.domain.templates import (
    BUILT_IN_TAGS,
    FUNCTIONS,
    LocalizedMessage,
    MessageTemplate,
    TemplateProblem,
    compile_template,
)
from bot.domain.voice import built_in_tags
from bot.program.context import Compiling, Loc
from bot.program.coupons import check_coupon_calls
from bot.program.encoding import segments
from bot.program.event_fields import unguarded
from bot.program.yamlfile import YamlDoc

SAMPLE_PHONE = "+15555550100"  # how long {{ phone }} is, for counting segments
# What an automation's message is counted and tried with: an event as a store sends it.
SAMPLE_EVENT = {
    "type": "checkout_started",
    "total_price": "129.95",
    "currency": "USD",
    "first_name": "Ana",
    "line_items": [
        {"title": "Trail runner", "quantity": 1, "price": "129.95", "image": "https://cdn.example/p.png"}
    ],
    "abandoned_checkout_url": "https://shop.example/cart/recover?key=0123456789abcdef",
    "order_name": "#1001",
    "order_status_url": "https://shop.example/orders/0123456789abcdef",
    "tracking_company": "UPS",
    "tracking_number": "1Z999AA10123456784",
    "tracking_url": "https://www.ups.com/track?tracknum=1Z999AA10123456784",
}
_RATES = re.compile(r"msg\s*(&|and)\s*data\s+rates\s+may\s+apply", re.IGNORECASE)
# What an opt-in confirmation must say, per language: the rates notice, a help word, an opt-out word.
_CTIA: dict[str, tuple[re.Pattern[str], tuple[str, ...], tuple[str, ...]]] = {
    "en": (_RATES, ("HELP",), ("STOP",)),
    "es": (re.compile(r"tarifas\s+de\s+mensajes", re.IGNORECASE), ("AYUDA", "HELP"), ("ALTO", "STOP")),
    "fr": (
        re.compile(r"frais\s+de\s+messagerie", re.IGNORECASE),
        ("AIDE", "HELP"),
        ("ARRET", "ARRÊT", "STOP"),
    ),
}
_RATES_SAMPLE = {
    "en": "Msg&data rates may apply",
    "es": "Pueden aplicarse tarifas de mensajes y datos",
    "fr": "Des frais de messagerie et de données peuvent s'appliquer",
}


def compile_message(
    c: Compiling, doc: YamlDoc, loc: Loc, source: str | dict[str, str] | None
) -> LocalizedMessage | None:
    """Compile a message: one text, or one per language; warn for each language it lacks."""
    if source is None:
        return None
    given = source if isinstance(source, dict) else {c.info.default_language: source}
    where = ".".join(map(str, loc))
    variants: dict[str, MessageTemplate] = {}
    for language, text in given.items():
        here = [*loc, language] if isinstance(source, dict) else loc
        template = _variant(c, doc, here, language, str(text))
        if template is not None:
            _count_segments(c, doc, here, template, language if isinstance(source, dict) else "")
            variants[language] = template
    if not variants:
        return None
    missing = [lang for lang in c.languages if lang not in variants]
    fallback = c.info.default_language if c.info.default_language in variants else next(iter(variants))
    if missing:
        c.note(
            doc,
            loc,
            f"{where}: no {', '.join(missing)} translation; {'they' if len(missing) > 1 else 'it'} "
            f"will get the {fallback} text",
        )
    return LocalizedMessage(variants, c.info.default_language)


def _variant(c: Compiling, doc: YamlDoc, here: Loc, language: str, text: str) -> MessageTemplate | None:
    where = ".".join(map(str, here))
    if language.split("_")[0] not in c.languages:
        c.note(
            doc,
            here,
            f"{where}: not one of the program's languages ({', '.join(c.languages)}); "
            "add it to program.languages",
        )
    try:
        template = compile_template(text)
    except TemplateProblem as exc:
        c.error(doc, here, f"{where}: {exc}")
        return None
    unknown = sorted(template.names - BUILT_IN_TAGS - FUNCTIONS - c.scope - set(c.properties))
    if unknown:
        c.error(
            doc,
            here,
            f"{where}: uses {', '.join(unknown)}, which is neither a declared property nor one of "
            f"{', '.join(sorted(BUILT_IN_TAGS))}",
        )
    if "event" in c.scope and "event" in template.names:
        _warn_bare_event_fields(c, doc, here, text)
    check_coupon_calls(c, doc, here, text)
    return template


def _warn_bare_event_fields(c: Compiling, doc: YamlDoc, here: Loc, text: str) -> None:
    """An event field read with nothing to fall back on: an event without it gets an empty value,
    or (through a filter such as currency) a message that fails and is not sent."""
    for field in unguarded(text, c.event_fields):
        c.note(
            doc,
            here,
            f"{'.'.join(map(str, here))}: reads event.{field} without a default; an event without it "
            f'gets an empty value or a failed message: write event.{field} | default("...") or '
            f"{{% if event.{field} %}}...{{% endif %}}",
        )


def check_media(c: Compiling, doc: YamlDoc, loc: Loc, url: str) -> None:
    """A media URL: as written, or a template of one (`{{ event.line_items[0].image }}`)."""
    where = ".".join(map(str, loc))
    if "{{" not in url:
        if not url.startswith(("https://", "http://")):
            c.error(doc, loc, f"{where}: {url!r}: expected an http(s) URL the carrier can fetch")
        return
    try:
        template = compile_template(url)
    except TemplateProblem as exc:
        c.error(doc, loc, f"{where}: {exc}")
        return
    unknown = sorted(template.names - BUILT_IN_TAGS - c.scope - set(c.properties))
    if unknown:
        c.error(
            doc,
            loc,
            f"{where}: uses {', '.join(unknown)}, which is neither a declared property nor the event",
        )


def sample_text(c: Compiling, template: MessageTemplate, language: str) -> str:
    """The message as a subscriber with no properties would get it (raises if it cannot render)."""
    tags: dict[str, object] = built_in_tags(c.info, "JOIN", language or c.info.default_language, SAMPLE_PHONE)
    if "event" in c.scope:
        tags["event"] = SAMPLE_EVENT
    sample_link = short_url(c.link_base, "x" * CODE_LENGTH)  # what a link(...) costs once sent
    return sample_coupons(swap(template.render_strict(tags), lambda _: sample_link))


def _count_segments(c: Compiling, doc: YamlDoc, loc: Loc, template: MessageTemplate, language: str) -> None:
    label = ".".join(map(str, loc))
    try:
        text = sample_text(c, template, language)
    except Exception as exc:  # the sandbox refuses, a filter fails: say so now, not per message
        c.error(doc, loc, f"{label}: cannot be rendered: {exc}")
        return
    found = segments(text)
    severity = "info"
    if found.ucs2_characters:  # a warning when UCS-2 costs segments: in GSM-7 it would need fewer
        in_gsm7 = segments("".join("?" if ch in found.ucs2_characters else ch for ch in text))
        severity = "warning" if found.segments > in_gsm7.segments else "info"
    c.note(doc, loc, f"{label}: {found.describe()}", severity)


def check_confirmation(c: Compiling, doc: YamlDoc, loc: Loc, name: str, reply: LocalizedMessage) -> None:
    """An opt-in confirmation must say what the CTIA requires, in each of its languages."""
    for language, template in reply.variants.items():
        several = len(reply.variants) > 1 or language != c.info.default_language
        here = [*loc, language] if several else loc
        try:
            text = sample_text(c, template, language)
        except Exception:
            continue  # already reported when its segments were counted
        missing = _ctia_missing(c, language, text)
        if missing:
            c.error(
                doc, here, f"{name}: the opt-in confirmation lacks {'; '.join(missing)} (CTIA requires them)"
            )


def _ctia_missing(c: Compiling, language: str, text: str) -> list[str]:
    words = c.info.context(language)
    base = language.split("_")[0]
    rates, help_words, stop_words = _CTIA.get(base, _CTIA["en"])
    missing = []
    if words["program"].lower() not in text.lower():
        missing.append(f"the program name ({words['program']!r} or {{{{ program }}}})")
    if words["frequency"].lower() not in text.lower():
        missing.append(f"the message frequency ({words['frequency']!r} or {{{{ frequency }}}})")
    if not rates.search(text):
        missing.append(f'"{_RATES_SAMPLE.get(base, _RATES_SAMPLE["en"])}"')
    if not any(re.search(rf"\b{w}\b", text) for w in help_words):
        missing.append(f"how to get help ({' or '.join(help_words)})")
    if not any(re.search(rf"\b{w}\b", text) for w in stop_words):
        missing.append(f"how to opt out ({' or '.join(stop_words)})")
    return missing
