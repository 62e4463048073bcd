"""What the marketer sees of a campaign: a preview before sending (nothing is sent), its status
while sending, and its report. Read-only."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, distinct, func, select
from sqlalchemy.engine import Connection

from bot.domain.benchmarks import CAMPAIGN_BAND
from bot.domain.campaigns import Campaign
from bot.domain.coupons import pools_in
from bot.domain.coupons import sample as sample_codes
from bot.domain.gate import Reason
from bot.domain.i18n import negotiate
from bot.domain.links import CODE_LENGTH, linker, short_url, swap
from bot.domain.model import Program
from bot.domain.phones import mask_phone
from bot.domain.voice import Voice, built_in_tags
from bot.pipeline import ab_tests, coupons
from bot.pipeline.campaigns import FAILED, audience_where, latest
from bot.pipeline.conversion_reports import earned
from bot.program.encoding import segments as billed
from bot.program.messages import SAMPLE_PHONE
from bot.store import rows
from bot.store.schema import campaign_recipients, clicks, consent_events, conversions, messages, subscribers

SAMPLES = 3
OPT_OUT_WINDOW = timedelta(hours=24)


@dataclass
class Preview:
    name: str
    segment: str
    recipients: int
    by_language: dict[str, int]
    by_country: dict[str, int]
    variants: dict[str, str]  # language -> "GSM-7, 1 segment"
    samples: list[dict[str, str]]  # masked phone, language, the message as they would get it
    billed_segments: int
    estimated_cost: float
    currency: str
    warnings: list[str] = field(default_factory=list)
    test: dict[str, Any] | None = None  # an A/B test: every variant as it reads, the group's size


def preview(
    conn: Connection,
    campaign: Campaign,
    program: Program,
    now: datetime,
    link_base: str | None,
    price: float,
    currency: str,
) -> Preview:
    audience = audience_where(campaign, program, conn.dialect.name, now)
    by_language, by_country = _counts(conn, audience, program.info.default_language)
    sample_link = short_url(link_base or "https://sms.example.com", "x" * CODE_LENGTH)
    variants, costs = _variants(campaign, program, sample_link)
    warnings = [
        f"{count} recipients speak {language}: there is no {language} text, they get the "
        f"{_variant_of(campaign, language)} one"
        for language, count in by_language.items()
        if language not in campaign.message.variants
    ]
    billed_segments = sum(
        count * costs[_variant_of(campaign, language)] for language, count in by_language.items()
    )
    total = sum(by_language.values())
    if total == 0:
        warnings.append(f"segment {campaign.segment} has no subscribed member: nothing would be sent")
    warnings += short_pools(conn, campaign, program, total)
    return Preview(
        campaign.name,
        campaign.segment,
        total,
        by_language,
        by_country,
        variants,
        _samples(conn, audience, campaign, program, sample_link),
        billed_segments,
        round(billed_segments * price, 2),
        currency,
        warnings,
        _test_preview(campaign, program, sample_link, total),
    )


def _test_preview(
    campaign: Campaign, program: Program, sample_link: str, total: int
) -> dict[str, Any] | None:
    """Each variant as the campaign's default language reads it, and how many are tested."""
    test = campaign.test
    if test is None:
        return None
    tested = min(total, max(len(test.variants), round(total * test.share))) if total else 0
    language = program.info.default_language
    tags = built_in_tags(program.info, program.join_word, language, SAMPLE_PHONE)
    variants = {}
    for variant in test.variants:
        text = sample_codes(
            swap(variant.message.render({**tags, "link": linker("")}, language), lambda _: sample_link)
        )
        variants[variant.name] = {
            "text": text,
            "encoding": billed(text).describe(),
            "media": list(variant.media),
        }
    return {
        "variants": variants,
        "tested": tested,
        "rest": total - tested,
        "metric": test.metric.value,
        "wait_hours": round(test.wait.total_seconds() / 3600, 2),
        "automatic": test.automatic,
    }


def short_pools(conn: Connection, campaign: Campaign, program: Program, recipients: int) -> list[str]:
    """A warning for each coupon pool the campaign draws from with fewer codes left than recipients."""
    tags = built_in_tags(program.info, program.join_word, program.info.default_language, SAMPLE_PHONE)
    written = [campaign.message, *(v.message for v in (campaign.test.variants if campaign.test else ()))]
    used = {pool for m in written for t in m.variants.values() for pool in pools_in(t.render(tags))}
    return [
        f"coupon pool {pool} has {found.left} codes left for {recipients} recipients: "
        f"{recipients - found.left} would be held back without a code (smsbot coupons load {pool} FILE)"
        for pool, found in sorted(coupons.counts(conn, used).items())
        if found.left < recipients
    ]


def _counts(conn: Connection, audience: Any, default: str) -> tuple[dict[str, int], dict[str, int]]:
    """Recipients by the language they will be spoken to in, and by country."""
    by_language: dict[str, int] = {}
    for language, count in conn.execute(
        select(subscribers.c.language, func.count()).where(audience).group_by(subscribers.c.language)
    ):
        spoken = negotiate(language, default)
        by_language[spoken] = by_language.get(spoken, 0) + int(count)
    by_country = {
        (country or "unknown"): int(count)
        for country, count in conn.execute(
            select(subscribers.c.country, func.count()).where(audience).group_by(subscribers.c.country)
        )
    }
    return by_language, by_country


def _variants(
    campaign: Campaign, program: Program, sample_link: str
) -> tuple[dict[str, str], dict[str, int]]:
    """Each language's text: its encoding and segments, links counted at their short length."""
    described: dict[str, str] = {}
    costs: dict[str, int] = {}
    for language, template in campaign.message.variants.items():
        tags = built_in_tags(program.info, program.join_word, language, SAMPLE_PHONE)
        found = billed(
            sample_codes(swap(template.render({**tags, "link": linker("")}), lambda _: sample_link))
        )
        described[language] = found.describe()
        costs[language] = found.segments
    return described, costs


def _samples(
    conn: Connection, audience: Any, campaign: Campaign, program: Program, sample_link: str
) -> list[dict[str, str]]:
    """The message as the first few recipients would read it (numbers masked)."""
    people = conn.execute(select(subscribers).where(audience).order_by(subscribers.c.id).limit(SAMPLES))
    samples = []
    for person in people.mappings():
        state = rows.subscriber_state(dict(person))
        text = Voice.to(state, program).message(campaign.message, state.properties)
        samples.append(
            {
                "phone": mask_phone(state.phone),
                "language": negotiate(state.language, program.info.default_language),
                "message": sample_codes(swap(text, lambda _: sample_link)),
            }
        )
    return samples


def _variant_of(campaign: Campaign, language: str) -> str:
    """The language whose text a speaker of `language` gets."""
    chosen = campaign.message.template(language)
    return next(lang for lang, template in campaign.message.variants.items() if template is chosen)


def status(conn: Connection, name: str) -> dict[str, Any]:
    """The latest round's state and each recipient's outcome, counted."""
    found = latest(conn, name)
    outcomes: dict[str, int] = {}
    query = (
        select(
            campaign_recipients.c.status,
            campaign_recipients.c.reason,
            messages.c.status,
            messages.c.error_code,
            messages.c.reason,
            func.count(),
        )
        .select_from(
            campaign_recipients.outerjoin(messages, messages.c.id == campaign_recipients.c.message_id)
        )
        .where(campaign_recipients.c.campaign_id == found.id)
        .group_by(
            campaign_recipients.c.status,
            campaign_recipients.c.reason,
            messages.c.status,
            messages.c.error_code,
            messages.c.reason,
        )
    )
    for recipient, reason, message, code, held, count in conn.execute(query):
        key = _outcome(recipient, reason, message, code, held)
        outcomes[key] = outcomes.get(key, 0) + int(count)
    return {
        "name": found.name,
        "round": found.round,
        "status": found.status,
        "audience": found.audience,
        "started_at": found.started_at.isoformat(),
        "started_by": found.started_by,
        "finished_at": found.finished_at.isoformat() if found.finished_at else None,
        "recipients": dict(sorted(outcomes.items())),
        "clicked": _clickers(conn, found.id),  # of the recipients above, those who tapped its link
    }


def _clickers(conn: Connection, campaign_id: int) -> int:
    counted = and_(clicks.c.campaign_id == campaign_id, clicks.c.preview.is_(False))
    return int(conn.execute(select(func.count(distinct(clicks.c.subscriber_id))).where(counted)).scalar_one())


def _outcome(
    recipient: str, reason: str | None, message: str | None, code: int | None, held: str | None
) -> str:
    """A recipient's outcome: skipped with the gate's reason (when queued, or at hand-over: `held`),
    sending, or the carrier's word."""
    if recipient == "skipped":
        return f"skipped: {reason}"
    if recipient == ab_tests.WAITING:
        return "waiting for the winner"
    if recipient == "pending" or message is None:
        return "pending"
    if message in ("pending", "dispatching"):
        return "sending"
    if message == "cancelled":
        return f"skipped: {held or Reason.OPTED_OUT.value}"  # held back by the gate after queueing
    if message in FAILED and code is not None:
        return f"{message}: {code}"  # with the carrier's error code
    return message  # queued, sent, delivered, undelivered, failed (the carrier's word)


def report(conn: Connection, name: str) -> dict[str, Any]:
    """Recipients, sent, delivered, failed by error code, clicks and click rate, opt-outs within
    24 h of delivery, conversions and revenue. Click rate = unique clickers / delivered; conversion
    rate = conversions / sent (Klaviyo's conversions ÷ recipients)."""
    found = latest(conn, name)
    ours = messages.c.campaign_id == found.id
    sent = conn.execute(select(func.count()).where(ours, messages.c.handed_at.is_not(None))).scalar_one()
    delivered = conn.execute(select(func.count()).where(ours, messages.c.status == "delivered")).scalar_one()
    failures = {
        str(code or "unknown"): int(count)
        for code, count in conn.execute(
            select(messages.c.error_code, func.count())
            .where(ours, messages.c.status.in_(("failed", "undelivered")))
            .group_by(messages.c.error_code)
        )
    }
    people = clicks.c.campaign_id == found.id
    counted = and_(people, clicks.c.preview.is_(False))
    unique_clicks = _clickers(conn, found.id)
    total_clicks = conn.execute(select(func.count()).where(counted)).scalar_one()
    previews = conn.execute(select(func.count()).where(people, clicks.c.preview.is_(True))).scalar_one()
    opted_out = _opted_out_after(conn, found.id)
    return {
        "name": found.name,
        "round": found.round,
        "recipients": found.audience,
        "sent": int(sent),
        "delivered": int(delivered),
        "failed": failures,
        "unique_clicks": int(unique_clicks),
        "total_clicks": int(total_clicks),
        "link_previews": int(previews),
        "click_rate": round(unique_clicks / delivered, 4) if delivered else None,
        "opt_outs_24h": int(opted_out),
        "opt_out_rate": round(opted_out / delivered, 4) if delivered else None,
        **earned(conn, conversions.c.campaign_id == found.id, int(sent), CAMPAIGN_BAND),
        **coupons.tally(conn, coupons.of_campaign(found.id)),
        **({"test": ab_tests.report(conn, found)} if found.definition.get("test") else {}),
    }


def _opted_out_after(conn: Connection, campaign_id: int) -> int:
    """Recipients who opted out within OPT_OUT_WINDOW of the campaign's message reaching the carrier."""
    after = conn.execute(
        select(consent_events.c.subscriber_id, consent_events.c.at, messages.c.handed_at)
        .select_from(
            consent_events.join(messages, messages.c.subscriber_id == consent_events.c.subscriber_id)
        )
        .where(
            messages.c.campaign_id == campaign_id,
            messages.c.handed_at.is_not(None),
            consent_events.c.to_status == "unsubscribed",
            consent_events.c.at >= messages.c.handed_at,
        )
    )
    return len({who for who, at, handed in after if at <= handed + OPT_OUT_WINDOW})
