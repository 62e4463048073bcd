"""Tracked links in templates: marked by the domain, shortened by the pipeline."""

import pytest

from bot.domain.links import Marked, is_preview, mark, short_url, swap, unmarked, with_utm
from bot.domain.templates import compile_template


def test_link_in_a_template_is_marked_with_its_url_and_origin() -> None:
    template = compile_template('Sale! {{ link("https://acme.example/sale") }} Reply STOP to opt out')
    text = template.render({"link": lambda url: mark(url, "campaign:shoe_sale")})
    seen: list[Marked] = []

    def shorten(marked: Marked) -> str:
        seen.append(marked)
        return "SHORT"

    assert swap(text, shorten) == "Sale! SHORT Reply STOP to opt out"
    assert seen == [Marked("campaign:shoe_sale", "https://acme.example/sale")]
    assert unmarked(text) == "Sale! https://acme.example/sale Reply STOP to opt out"


def test_what_is_not_a_web_address_is_left_as_written() -> None:
    assert mark("acme.example/sale") == "acme.example/sale"
    assert mark("javascript:alert(1)") == "javascript:alert(1)"


def test_utm_parameters_are_added_but_the_marketers_own_win() -> None:
    assert with_utm("https://a.example/x", "campaign", "sale") == (
        "https://a.example/x?utm_source=sms&utm_medium=campaign&utm_campaign=sale"
    )
    assert with_utm("https://a.example/x?utm_campaign=mine&b=1", "flow", "welcome") == (
        "https://a.example/x?utm_campaign=mine&b=1&utm_source=sms&utm_medium=flow"
    )


@pytest.mark.parametrize(
    ("agent", "preview"),
    [
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148 Safari/604.1", False),
        ("Mozilla/5.0 (Linux; Android 14; Pixel 8) Chrome/120.0 Mobile Safari/537.36", False),
        ("facebookexternalhit/1.1 Facebot Twitterbot/1.0", True),  # iMessage
        ("WhatsApp/2.23.20.0 A", True),
        ("TelegramBot (like TwitterBot)", True),
        ("Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", True),
        ("Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)", True),
        (None, True),
    ],
)
def test_link_preview_fetchers_are_told_apart_from_people(agent: str | None, preview: bool) -> None:
    assert is_preview(agent) is preview


def test_short_url_joins_the_base_and_the_code() -> None:
    assert short_url("https://acme.link/", "Ab3dEf9h") == "https://acme.link/l/Ab3dEf9h"
