"""How well opt-outs said in sentences are read, on the labelled file of the test suite.

    .venv/bin/python bench/opt_outs.py [tests/domain/data/opt_out_sentences.tsv]

Each line is a request (an opt-out asked for in words) or an ordinary reply that holds a trigger
word; each is matched exactly as an inbound message from a subscriber of the shipped program.
Printed, per language and in all: requests honoured (opted out at once), requests asked about (the
one clarifying question), ordinary replies wrongly unsubscribed, and ordinary replies asked about.
"""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.domain.compliance import Intent  # noqa: E402
from bot.domain.matcher import match  # noqa: E402
from bot.domain.model import Program  # noqa: E402
from bot.domain.subscription import Status  # noqa: E402
from bot.program.loader import load_program  # noqa: E402

LABELLED = ROOT / "tests" / "domain" / "data" / "opt_out_sentences.tsv"


@dataclass(frozen=True)
class Example:
    label: str  # "request" or "ordinary"
    language: str
    text: str


def examples(path: Path = LABELLED) -> list[Example]:
    found = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            label, language, text = line.split("\t", 2)
            found.append(Example(label, language, text))
    return found


def outcome(example: Example, program: Program) -> str:
    intent = match(example.text, program, Status.SUBSCRIBED).intent
    if intent is Intent.OPT_OUT:
        return "opted out"
    return "asked" if intent is Intent.UNCLEAR_OPT_OUT else "ordinary"


def figures(items: list[Example], program: Program) -> dict[str, float]:
    counts = Counter((e.label, outcome(e, program)) for e in items)
    requests = sum(v for (label, _), v in counts.items() if label == "request") or 1
    ordinary = sum(v for (label, _), v in counts.items() if label == "ordinary") or 1
    return {
        "requests": requests,
        "honoured": counts["request", "opted out"] / requests,
        "requests asked": counts["request", "asked"] / requests,
        "ordinary": ordinary,
        "wrongly unsubscribed": counts["ordinary", "opted out"] / ordinary,
        "ordinary asked": counts["ordinary", "asked"] / ordinary,
    }


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else LABELLED
    program = load_program(ROOT / "keywords").program
    items = examples(path)
    heads = ("requests", "honoured", "asked", "ordinary", "unsubscribed", "asked")
    print(f"{'':6} {heads[0]:>9} {heads[1]:>9} {heads[2]:>7}   {heads[3]:>9} {heads[4]:>13} {heads[5]:>7}")
    for language in ["en", "es", "fr", "all"]:
        chosen = [e for e in items if language in ("all", e.language)]
        f = figures(chosen, program)
        print(
            f"{language:6} {f['requests']:>9.0f} {f['honoured']:>9.1%} {f['requests asked']:>7.1%}   "
            f"{f['ordinary']:>9.0f} {f['wrongly unsubscribed']:>13.1%} {f['ordinary asked']:>7.1%}"
        )


if __name__ == "__main__":
    main()
