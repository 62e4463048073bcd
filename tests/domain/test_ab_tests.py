"""A/B tests, pure: the test group drawn from the seed, the winner, and how sure the difference is."""

from collections import Counter

from bot.domain.ab_tests import Tally, assign, difference, winner


def test_the_test_group_is_a_share_drawn_from_the_seed_and_split_evenly() -> None:
    people = list(range(1, 1001))
    chosen = assign(people, 2, 0.2, "winter:1")
    assert Counter(chosen.values()) == {None: 800, 0: 100, 1: 100}
    assert chosen == assign(list(reversed(people)), 2, 0.2, "winter:1")  # the same seed, the same people
    assert chosen != assign(people, 2, 0.2, "winter:2")  # another round, another draw


def test_a_tiny_audience_still_tries_every_variant_once() -> None:
    assert sorted(v for v in assign([7, 8, 9], 2, 0.1, "s").values() if v is not None) == [0, 1]


def test_the_best_rate_wins_and_a_tie_goes_to_the_campaigns_own_message() -> None:
    assert winner({"a": Tally(100, 3), "b": Tally(100, 9)}) == "b"
    assert winner({"a": Tally(100, 5), "b": Tally(100, 5)}) == "a"
    assert winner({"a": Tally(0, 0), "b": Tally(0, 0)}) == "a"  # nothing sent yet: the original


def test_the_difference_is_called_with_a_two_proportion_z_test() -> None:
    found = difference({"a": Tally(500, 30), "b": Tally(500, 50)})
    assert found is not None and (found.best, found.runner_up) == ("b", "a")
    assert found.confidence is not None and abs(found.confidence - 0.9802) < 0.0005  # z = 2.33
    assert found.verdict == "b beats a (98.0% confidence)"
    close = difference({"a": Tally(500, 40), "b": Tally(500, 44)})
    assert close is not None and close.verdict.startswith("no clear difference yet")


def test_a_test_too_small_for_the_approximation_says_so() -> None:
    found = difference({"a": Tally(5, 0), "b": Tally(5, 3)})
    assert found is not None and found.confidence is None and found.verdict == "too small to call"
