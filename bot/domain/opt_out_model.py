"""A second opinion on opt-outs: how like a request a message is, learnt from our labelled sets.

The sentence rules (`opt_out`) are exact about what they know and blind past it; this model weighs
every word and pair of words of a message by how often it came in requests rather than in ordinary
replies (a logistic regression over the words, the pairs of words, the first five letters of a
long word, the message's length, a question mark and a smile). It is trained by
`bench/train_opt_out_model.py` on `tests/domain/data/` and shipped as `opt_out_model.json`; the
rules and the model together decide (`opt_out.read`).
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib.resources import files

SHIPPED = "opt_out_model.json"
_PREFIX = 5  # letters: "desuscribirme" and "desuscribanme" share "desus~"
_SCOPE = 3  # words a negation reaches
NEGATIONS = frozenset(
    {"dont", "not", "never", "no", "cant", "cannot", "wont", "didnt", "doesnt", "isnt", "wouldnt", "nor"}
    | {"without", "nunca", "ni", "ne", "pas", "jamais"}
)


def _length(n: int) -> str:
    if n <= 1:
        return f"n:{n}"
    return "n:2" if n <= 3 else "n:4" if n <= 6 else "n:7" if n <= 12 else "n:13"


def features(words: Sequence[str], question: bool, smiling: bool) -> list[str]:
    """What the model weighs in a message: its folded words as the rules read them, a word within
    three after a negation marked ("dont want texts": "!want", "!texts"; "I want texts": "want")."""
    found = [_length(len(words))]
    before = "^"
    negated = 0
    for word in words:
        found.append(f"!{word}" if negated else word)
        found.append(f"{before} {word}")
        if len(word) > _PREFIX:
            found.append(word[:_PREFIX] + "~")
        if word in NEGATIONS:
            negated = _SCOPE
        elif negated:
            negated -= 1
        before = word
    found.append(f"{before} $")
    if question:
        found.append("?")
    if smiling:
        found.append(":)")
    return found


@dataclass(frozen=True)
class Model:
    weights: dict[str, float]
    bias: float
    # A known word's weight and its first letters' together: one look-up a word; and each pair of
    # words by its first, so that weighing a pair makes no string.
    _words: dict[str, float] = field(init=False, repr=False, compare=False)
    _pairs: dict[str, dict[str, float]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        get = self.weights.get
        alone = {
            f: w + (get(f[:_PREFIX] + "~", 0.0) if len(f) > _PREFIX else 0.0) for f, w in self.weights.items()
        }
        pairs: dict[str, dict[str, float]] = {}
        for f, w in self.weights.items():
            first, _, second = f.partition(" ")
            if second:
                pairs.setdefault(first, {})[second] = w
        object.__setattr__(self, "_words", alone)
        object.__setattr__(self, "_pairs", pairs)

    def probability(self, words: Sequence[str], question: bool, smiling: bool) -> float:
        """How likely a request, from 0 to 1: `features` weighed, without making their list."""
        get = self.weights.get
        alone = self._words.get
        pairs = self._pairs.get
        z = self.bias + get(_length(len(words)), 0.0)
        after = pairs("^")
        negated = 0
        for word in words:
            weight = get(f"!{word}") if negated else alone(word)
            if weight is None or negated:
                weight = (weight or 0.0) + (get(word[:_PREFIX] + "~", 0.0) if len(word) > _PREFIX else 0.0)
            z += weight + (after.get(word, 0.0) if after else 0.0)
            if word in NEGATIONS:
                negated = _SCOPE
            elif negated:
                negated -= 1
            after = pairs(word)
        z += (after.get("$", 0.0) if after else 0.0) + (get("?", 0.0) if question else 0.0)
        z += get(":)", 0.0) if smiling else 0.0
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


@dataclass(frozen=True)
class Example:
    words: list[str]
    question: bool
    smiling: bool
    request: bool


@dataclass(frozen=True)
class Training:
    epochs: int = 15
    rate: float = 0.5  # AdaGrad's step
    l2: float = 1e-4
    seed: int = 7
    digits: int = 4  # weights are shipped rounded: the file stays small and the same on every machine


def train(examples: Iterable[Example], how: Training = Training()) -> Model:
    """Logistic regression by AdaGrad, in a fixed order: the same examples give the same model."""
    items = [(features(e.words, e.question, e.smiling), 1.0 if e.request else 0.0) for e in examples]
    weights: dict[str, float] = {}
    squares: dict[str, float] = {}
    bias, bias_square = 0.0, 1e-8
    order = random.Random(how.seed)
    for _ in range(how.epochs):
        order.shuffle(items)
        for found, label in items:
            z = bias + sum(weights.get(f, 0.0) for f in found)
            error = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z)))) - label
            bias_square += error * error
            bias -= how.rate * error / math.sqrt(bias_square)
            for f in found:
                weight = weights.get(f, 0.0)
                step = error + how.l2 * weight
                square = squares.get(f, 1e-8) + step * step
                squares[f] = square
                weights[f] = weight - how.rate * step / math.sqrt(square)
    kept = {f: round(w, how.digits) for f, w in sorted(weights.items()) if round(w, how.digits)}
    return Model(kept, round(bias, how.digits))


def dumps(model: Model, sources: dict[str, str]) -> str:
    """The shipped file: the model and the digest of each set it learnt from."""
    return json.dumps({"sources": sources, "bias": model.bias, "weights": model.weights}, indent=0) + "\n"


def shipped() -> tuple[Model, dict[str, str]]:
    data = json.loads((files("bot.domain") / SHIPPED).read_text(encoding="utf-8"))
    return Model(data["weights"], data["bias"]), data["sources"]
