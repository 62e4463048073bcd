"""One list of built-in tags: what `smsbot check` accepts is exactly what a reply fills in."""

from pathlib import Path

from bot.domain.model import ProgramInfo
from bot.domain.templates import BUILT_IN_TAGS, compile_template
from bot.domain.voice import built_in_tags
from bot.program.loader import load_program

INFO = ProgramInfo(name="Acme Alerts", brand="Acme", help_contact="help@acme.test", frequency="4 msgs/mo")


def test_every_built_in_tag_is_filled_in_and_nothing_else() -> None:
    tags = built_in_tags(INFO, "JOIN", "fr", "+15145550123")
    assert set(tags) == BUILT_IN_TAGS
    assert all(value for value in tags.values()), tags


def test_phone_and_locale_are_the_subscribers_own() -> None:
    tags = built_in_tags(INFO, None, "fr", "+15145550123")
    assert tags["phone"] == "+15145550123" and tags["locale"] == "fr_CA" and tags["join"] == ""


def test_a_message_with_every_built_in_tag_passes_the_checker(keywords_copy: Path) -> None:
    every = " ".join(f"{{{{ {tag} }}}}" for tag in sorted(BUILT_IN_TAGS))
    (keywords_copy / "extra.yaml").write_text(
        f'keywords:\n  PING:\n    type: preference\n    reply: "Acme: {every}. Reply STOP to opt out."\n'
    )
    program = load_program(keywords_copy).program
    reply = program.keywords["PING"].reply
    assert reply is not None
    rendered = compile_template(reply.source).render(built_in_tags(INFO, "JOIN", "en", "+14155550123"))
    assert "+14155550123" in rendered and "Acme Alerts" in rendered and "en_US" in rendered
