"""Campaigns in the keyword YAML, checked with file:line.

    campaigns:
      shoe_sale:
        segment: engaged_shoe_fans
        message: 'Acme: 20% off shoes this weekend {{ link("https://acme.example/shoes") }} STOP to opt out'
        send_at: "2026-12-05 10:00"
        local_time: true          # 10:00 in each subscriber's own zone
        smart_sending: 24         # hours; false: off
        spread_over_minutes: 0
        max_segments: 3

The checker refuses an unknown segment, a message longer than max_segments segments (tracked
links counted at their short length), media that is not an https:// URL, a send_at with a zone.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from bot.domain.ab_tests import VARIANT_NAMES, ABTest, Variant
from bot.domain.campaigns import Campaign, Timing
from bot.domain.segments import Segment
from bot.domain.templates import LocalizedMessage
from bot.program.context import Compiling, Loc
from bot.program.durations import duration
from bot.program.encoding import segments as billed
from bot.program.messages import compile_message, sample_text
from bot.program.schema import CampaignSection, VariantSection
from bot.program.yamlfile import YamlDoc

LATE = timedelta(minutes=10)  # as the worker's default (campaigns.late_after_minutes)


def compile_campaigns(
    c: Compiling, parsed: list[tuple[YamlDoc, Mapping[str, CampaignSection]]], segments: Mapping[str, Segment]
) -> dict[str, Campaign]:
    campaigns: dict[str, Campaign] = {}
    seen: set[str] = set()
    for doc, section in parsed:
        for name, body in section.items():
            loc: Loc = ["campaigns", name]
            if name in seen:
                c.error(doc, loc, f"campaign {name} is defined twice")
                continue
            seen.add(name)
            campaign = _compile(c, doc, loc, name, body, segments)
            if campaign is not None:
                campaigns[name] = campaign
    return campaigns


def _compile(
    c: Compiling, doc: YamlDoc, loc: Loc, name: str, body: CampaignSection, segments: Mapping[str, Segment]
) -> Campaign | None:
    ok = True
    if body.segment not in segments:
        c.error(doc, [*loc, "segment"], f"campaign {name}: no segment {body.segment}")
        ok = False
    if body.send_at is not None and body.send_at.tzinfo is not None:
        c.error(doc, [*loc, "send_at"], "send_at: a wall-clock time such as 2026-12-05 10:00, without a zone")
        ok = False
    for i, url in enumerate(body.media):
        if not url.startswith("https://"):
            c.error(doc, [*loc, "media", i], f"campaign {name}: media must be https:// URLs, got {url!r}")
            ok = False
    message = compile_message(c, doc, [*loc, "message"], body.message)
    if message is None or not _fits(c, doc, [*loc, "message"], message, body.max_segments) or not ok:
        return None
    test = _test(c, doc, loc, body, Variant("a", message, tuple(body.media))) if body.test else None
    if body.test is not None and test is None:
        return None
    timing = Timing.MANUAL if body.send_at is None else Timing.LOCAL if body.local_time else Timing.AT
    smart = body.smart_sending
    campaign = Campaign(
        name=name,
        segment=body.segment,
        message=message,
        media=tuple(body.media),
        timing=timing,
        send_at=body.send_at,
        smart_sending_hours=None if smart is False else 24.0 if smart is True else float(smart),
        spread_minutes=body.spread_over_minutes,
        max_segments=body.max_segments,
        draft=body.draft,
        defined_at=(str(doc.path), doc.line_of(loc)),
        test=test,
    )
    if body.draft and body.send_at is not None:
        c.note(
            doc,
            [*loc, "draft"],
            f"campaign {name}: a draft; its send_at is not followed until draft: false",
            "info",
        )
    try:
        starts = campaign.starts_at(c.info.zone)
    except (ValueError, KeyError):  # an unknown program.timezone: reported with the program section
        return campaign
    if starts is not None and starts < datetime.now(UTC) - LATE:
        c.note(
            doc,
            [*loc, "send_at"],
            f"campaign {name}: send_at {body.send_at:%Y-%m-%d %H:%M} has passed; it will not send by "
            f"itself (a copied date, or downtime): send it on purpose with smsbot campaign send {name}",
        )
    return campaign


def _test(c: Compiling, doc: YamlDoc, loc: Loc, body: CampaignSection, first: Variant) -> ABTest | None:
    """The A/B test: variants b, c, d beside the campaign's own message (a), each checked as it is."""
    section = body.test
    assert section is not None
    here, said = [*loc, "test"], f"campaign {loc[1]}: test"
    names = list(section.variants)
    if not names or names != list(VARIANT_NAMES[1 : len(names) + 1]):
        c.error(doc, [*here, "variants"], f"{said}.variants: expected b, then c and d (message is a)")
        return None
    wait = duration(section.wait)
    if wait is None:
        c.error(doc, [*here, "wait"], f"{said}.wait {section.wait!r}: expected 4h (or 30m, 2d)")
        return None
    variants = [first]
    for name, given in section.variants.items():
        variant = _variant(c, doc, [*here, "variants", name], name, given, body.max_segments)
        if variant is None:
            return None
        variants.append(variant)
    automatic = section.winner == "automatic"
    return ABTest(tuple(variants), section.share / 100, section.metric, wait, automatic)


def _variant(
    c: Compiling, doc: YamlDoc, where: Loc, name: str, given: VariantSection, most: int
) -> Variant | None:
    for i, url in enumerate(given.media):
        if not url.startswith("https://"):
            c.error(doc, [*where, "media", i], f"variant {name}: media must be https:// URLs, got {url!r}")
            return None
    message = compile_message(c, doc, [*where, "message"], given.message)
    if message is None or not _fits(c, doc, [*where, "message"], message, most):
        return None
    return Variant(name, message, tuple(given.media))


def _fits(c: Compiling, doc: YamlDoc, loc: Loc, message: LocalizedMessage, most: int) -> bool:
    fits = True
    for language, template in message.variants.items():
        try:
            found = billed(sample_text(c, template, language))
        except Exception:
            continue  # already reported when the message was compiled
        if found.segments > most:
            here = [*loc, language] if len(message.variants) > 1 else loc
            c.error(
                doc,
                here,
                f"{'.'.join(map(str, here))}: {found.segments} segments ({found.encoding}); "
                f"at most {most} (max_segments)",
            )
            fits = False
    return fits
