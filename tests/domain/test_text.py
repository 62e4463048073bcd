"""Texts as carriers take them, and answers as profiles keep them."""

import random

from bot.domain.text import MAX_MESSAGE, clean_answer, fold, fold_unicode, sendable


def test_sendable_drops_what_xml_forbids_and_keeps_newlines_and_emoji() -> None:
    assert sendable("Hi\x1b Ana\uffff\x00!\nBye 👟\t") == "Hi Ana!\nBye 👟\t"


def test_sendable_never_exceeds_one_carrier_message() -> None:
    long = sendable("a" * 5000)
    assert len(long) == MAX_MESSAGE and long.endswith("…")
    assert sendable("a" * MAX_MESSAGE) == "a" * MAX_MESSAGE


def test_an_answer_keeps_its_words_not_its_control_characters() -> None:
    assert clean_answer("  Ana\x1b  María\x00\u0085 ") == "Ana María"


def test_fold_makes_one_word_of_every_way_of_writing_it() -> None:
    assert fold("Don't STOP!!") == "dont stop"
    assert fold("  Ｓｔｏｐ. ") == "stop"
    assert fold("ARRÊTEZ les_messages") == "arretez les messages"
    assert fold("`Quit`\tnow\r\n") == "quit now"
    assert fold("") == fold("?!") == ""


def test_an_ascii_message_folds_as_the_general_rules_fold_it() -> None:
    for code in range(128):
        assert fold(chr(code) + "A" + chr(code)) == fold_unicode(chr(code) + "A" + chr(code)), code
    draw = random.Random(25)
    for _ in range(20_000):
        text = "".join(chr(draw.randrange(128)) for _ in range(draw.randrange(16)))
        assert fold(text) == fold_unicode(text), repr(text)
