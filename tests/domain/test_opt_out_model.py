"""The opt-out model: learnt from our sets, never from the held-out round, weighed as defined."""

from __future__ import annotations

import math

import pytest

from bench.train_opt_out_model import HELD_OUT, SHIPPED, built, sources
from bot.domain.opt_out import example
from bot.domain.opt_out_model import Example, Model, features, shipped, train


def test_the_shipped_model_is_what_our_sets_teach() -> None:
    assert SHIPPED.read_text(encoding="utf-8") == built(), "run bench/train_opt_out_model.py"


def test_the_held_out_round_teaches_nothing() -> None:
    _, learnt_from = shipped()
    assert set(learnt_from) == {p.name for p in sources()}
    assert not set(HELD_OUT) & set(learnt_from)


@pytest.mark.parametrize(
    "text",
    ["Stop texting me please", "I don't want no more texts ever", "Désabonnez-moi svp 😂", "ok?", ""],
)
def test_the_probability_weighs_exactly_the_features(text: str) -> None:
    model, _ = shipped()
    words, question, smiling = example(text)
    z = model.bias + sum(model.weights.get(f, 0.0) for f in features(words, question, smiling))
    assert model.probability(words, question, smiling) == pytest.approx(1 / (1 + math.exp(-z)), abs=1e-12)


def test_a_negation_marks_the_words_it_reaches() -> None:
    assert features(["dont", "want", "texts", "from", "you"], False, False)[:8] == [
        "n:4",
        "dont",
        "^ dont",
        "!want",
        "dont want",
        "!texts",
        "want texts",
        "!from",
    ]


def test_training_is_the_same_every_time_and_learns_the_labels() -> None:
    examples = [
        Example(["stop", "texting", "me"], False, False, True),
        Example(["unsubscribe"], False, False, True),
        Example(["when", "does", "it", "ship"], True, False, False),
        Example(["love", "it"], False, True, False),
    ] * 5
    first, second = train(examples), train(examples)
    assert first == second and isinstance(first, Model)
    assert first.probability(["stop", "texting", "me"], False, False) > 0.5
    assert first.probability(["when", "does", "it", "ship"], True, False) < 0.5
