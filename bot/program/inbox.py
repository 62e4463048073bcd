"""The `inbox:` section compiled: the conversations inbox's auto-reply, office hours, saved replies
and how long marketing waits for a conversation."""

from __future__ import annotations

from datetime import time, timedelta

from bot.domain.inbox import DAYS, Inbox, OfficeHours
from bot.domain.templates import LocalizedMessage
from bot.program.context import Compiling, Loc
from bot.program.coupons import gives_coupons
from bot.program.durations import duration
from bot.program.messages import compile_message
from bot.program.schema import AutoReplySection, InboxSection, OfficeHoursSection
from bot.program.yamlfile import YamlDoc

Parsed = list[tuple[YamlDoc, InboxSection | None]]


def compile_inbox(c: Compiling, sections: Parsed) -> Inbox:
    found = [(doc, section) for doc, section in sections if section is not None]
    if not found:
        return Inbox()
    doc, section = found[0]
    for other, _ in found[1:]:
        c.error(other, ["inbox"], f"inbox: already set in {doc.path}; keep one")
    waits = duration(section.marketing_waits)
    if waits is None:
        c.error(
            doc, ["inbox", "marketing_waits"], "inbox.marketing_waits: expected a duration such as 2h or 30m"
        )
    reply = section.auto_reply
    opened = reply.open if isinstance(reply, AutoReplySection) else reply
    closed = reply.closed if isinstance(reply, AutoReplySection) else None
    where: Loc = (
        ["inbox", "auto_reply", "open"] if isinstance(reply, AutoReplySection) else ["inbox", "auto_reply"]
    )
    saved: dict[str, LocalizedMessage] = {}
    for name, text in section.saved_replies.items():
        message = compile_message(c, doc, ["inbox", "saved_replies", name], text)
        if message is not None and gives_coupons(message):
            c.error(
                doc,
                ["inbox", "saved_replies", name],
                f"inbox.saved_replies.{name}: a saved reply cannot give a coupon code (a person edits "
                "it before it goes); use a flow or a keyword's reply",
            )
        elif message is not None:
            saved[name] = message
    return Inbox(
        marketing_waits=waits if waits is not None else timedelta(hours=2),
        auto_reply=compile_message(c, doc, where, opened),
        auto_reply_closed=compile_message(c, doc, ["inbox", "auto_reply", "closed"], closed),
        office_hours=_hours(c, doc, section.office_hours),
        saved_replies=saved,
    )


def _hours(c: Compiling, doc: YamlDoc, section: OfficeHoursSection | None) -> OfficeHours | None:
    if section is None:
        return None
    days = set()
    for day in section.days:
        if day.strip().lower()[:3] not in DAYS:
            c.error(
                doc,
                ["inbox", "office_hours", "days"],
                f"inbox.office_hours.days: {day!r} is not one of {', '.join(DAYS)}",
            )
        else:
            days.add(DAYS.index(day.strip().lower()[:3]))
    opens, closes = _time(c, doc, "opens", section.opens), _time(c, doc, "closes", section.closes)
    if opens >= closes:
        c.error(doc, ["inbox", "office_hours"], "inbox.office_hours: opens must come before closes")
    return OfficeHours(frozenset(days), opens, closes)


def _time(c: Compiling, doc: YamlDoc, name: str, text: str) -> time:
    try:
        return time.fromisoformat(text.strip())
    except ValueError:
        c.error(
            doc,
            ["inbox", "office_hours", name],
            f"inbox.office_hours.{name}: expected a time such as 09:00, got {text!r}",
        )
        return time(0)
