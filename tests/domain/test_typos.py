import pytest

from bot.domain.typos import TypoIndex, one_edit

INDEX = TypoIndex({"join": "JOIN", "shoes": "SHOES", "sales": "SALES", "sale": "SALE", "events": "EVENTS"})


@pytest.mark.parametrize(
    ("texted", "keyword"),
    [
        ("jion", "JOIN"),
        ("joinn", "JOIN"),
        ("jon", "JOIN"),
        ("joim", "JOIN"),
        ("ojin", "JOIN"),
        ("shoess", "SHOES"),
        ("shoe", "SHOES"),
        ("sheos", "SHOES"),
        ("evnets", "EVENTS"),
        ("event", "EVENTS"),
    ],
)
def test_one_letter_typos_match(texted: str, keyword: str) -> None:
    assert INDEX.match(texted) == keyword


@pytest.mark.parametrize("texted", ["jnio", "jo", "shoesss", "xyz", "joinnn"])
def test_two_edits_match_nothing(texted: str) -> None:
    assert INDEX.match(texted) is None


def test_closest_of_two_similar_keywords_when_only_one_is_one_edit_away() -> None:
    assert INDEX.match("sal") == "SALE"  # SALES is two away
    assert INDEX.match("saless") == "SALES"  # SALE is two away


def test_a_typo_close_to_two_keywords_is_not_guessed() -> None:
    assert INDEX.match("sals") is None  # SALE and SALES are both one edit away


def test_one_edit() -> None:
    assert one_edit("join", "jion") and one_edit("join", "joins") and one_edit("join", "jin")
    assert one_edit("join", "joen") and not one_edit("join", "join") and not one_edit("join", "jnio")


def test_a_typo_as_near_a_compliance_word_matches_no_keyword() -> None:
    index = TypoIndex({"stops": "STOPS", "join": "JOIN"}, blocked=["stop"])
    assert index.match("stpos") == "STOPS"  # two swapped letters of STOPS, two edits from STOP
    assert index.match("stos") is None  # one edit from STOP as from STOPS: never guessed a keyword
    assert index.near_blocked("stpo") and not index.near_blocked("jion")


def test_the_candidates_of_a_word_near_nothing_are_none() -> None:
    assert INDEX.candidates("pizza") == set()
    assert INDEX.candidates("sals") == {"sale", "sales"}
