"""Tracked links: `{{ link("https://acme.example/sale") }}` in a message.

Rendering a template only marks the link, with where it came from (a campaign, a flow, a keyword's
reply); the pipeline, which stores the message, swaps each mark for a short link of its own
(`/l/{code}`, one per recipient and message) and records it. So the domain stays pure, and the
message stored is the message sent.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

LINK_PATH = "/l/{code}"  # the short link's path on the public URL (an aiohttp route as written)
CODE_LENGTH = 8  # base62: 2 * 10**14 codes, unguessable enough for a link to a sale
_OPEN, _SEP, _CLOSE = "\ue000", "\ue002", "\ue001"  # private-use characters: never in a real message
_MARK = re.compile(f"{_OPEN}([^{_SEP}{_CLOSE}]*){_SEP}([^{_CLOSE}]*){_CLOSE}")


def is_trackable(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and not any(c.isspace() for c in url)


def mark(url: str, origin: str = "") -> str:
    """What `link(url)` renders to: the URL and its origin ("campaign:shoe_sale", "flow:welcome")."""
    url = str(url).strip()
    if not is_trackable(url):
        return url  # not a web address: sent as written, untracked
    return f"{_OPEN}{origin}{_SEP}{url}{_CLOSE}"


def linker(origin: str) -> Callable[[str], str]:
    """The `link` function a template sees when rendered for `origin`."""
    return lambda url: mark(url, origin)


@dataclass(frozen=True)
class Marked:
    origin: str  # "" when the template was rendered without one
    url: str


def swap(text: str, short: Callable[[Marked], str]) -> str:
    """`text` with each mark replaced by `short(mark)` (a short link, or the URL itself)."""
    return _MARK.sub(lambda found: short(Marked(found.group(1), found.group(2))), text)


def unmarked(text: str) -> str:
    """`text` with the plain URLs in place of the marks (when no link can be tracked)."""
    return swap(text, lambda marked: marked.url)


def short_url(base: str, code: str) -> str:
    return base.rstrip("/") + LINK_PATH.format(code=code)


@lru_cache(maxsize=256)  # a campaign's links share their target: built once, not once per tap
def with_utm(url: str, medium: str, campaign: str) -> str:
    """The target with utm_source=sms, utm_medium (campaign, flow, keyword) and utm_campaign (its
    name) added, unless the marketer set them in the URL already: their own tagging wins."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    present = {key for key, _ in query}
    for key, value in (("utm_source", "sms"), ("utm_medium", medium), ("utm_campaign", campaign)):
        if key not in present and value:
            query.append((key, value))
    return urlunsplit(parts._replace(query=urlencode(query)))


# Link-preview fetchers: phones and chat apps fetch a link to draw its preview card before anyone
# taps it (iMessage presents itself as facebookexternalhit + Twitterbot). Recorded, never counted.
_PREVIEW_AGENTS = re.compile(
    r"facebookexternalhit|facebot|twitterbot|slackbot|slack-imgproxy|whatsapp|telegrambot|discordbot|"
    r"linkedinbot|skypeuripreview|applebot|googlebot|bingbot|google-pagerenderer|embedly|pinterest|"
    r"redditbot|vkshare|viber|snapchat|iframely|outbrain|yahoo.*slurp|bot\b|crawler|spider|preview",
    re.IGNORECASE,
)


def is_preview(user_agent: str | None, method: str = "GET") -> bool:
    """Is this request a link-preview fetcher or a robot, not a person tapping the link?"""
    if method == "HEAD" or not user_agent:
        return True  # a HEAD only asks what is there; a real browser always names itself
    return _robot(user_agent)


@lru_cache(maxsize=256)  # taps come from a few browsers: the search runs once per user agent
def _robot(user_agent: str) -> bool:
    return bool(_PREVIEW_AGENTS.search(user_agent))
