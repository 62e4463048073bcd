"""Texts as carriers take them, and answers as profiles keep them."""

from bot.domain.text import MAX_MESSAGE, clean_answer, sendable


def test_sendable_drops_what_xml_forbids_and_keeps_newlines_and_emoji() -> None:
    assert sendable("Hi\x1b Ana\uffff\x00!\nBye 👟\t") == "Hi Ana!\nBye 👟\t"


def test_sendable_never_exceeds_one_carrier_message() -> None:
    long = sendable("a" * 5000)
    assert len(long) == MAX_MESSAGE and long.endswith("…")
    assert sendable("a" * MAX_MESSAGE) == "a" * MAX_MESSAGE


def test_an_answer_keeps_its_words_not_its_control_characters() -> None:
    assert clean_answer("  Ana\x1b  María\x00\u0085 ") == "Ana María"
