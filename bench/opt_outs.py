"""How well opt-outs said in sentences are read, on labelled files, and what reading costs.

    .venv/bin/python bench/opt_outs.py [FILE ...]

Each line of a file is `label<TAB>language<TAB>text`: a request (an opt-out asked for in words), a
trigger (an ordinary reply that holds a trigger word: stop, cancel, end, no more...) or ordinary (any
other reply). A file in the SMS Spam Collection's format (`ham<TAB>text`, `spam<TAB>text`) is read
too: its ham lines as ordinary English messages, its spam left out. Each line is matched exactly as
an inbound message from a subscriber of the shipped program. Printed, per file and language:
requests honoured (opted out at once) and asked about (the one clarifying question), the request
score (asked counts half), and trigger-word replies and ordinary replies wrongly unsubscribed and
asked about; then the cost of matching a message, against matching its keyword alone in the same run.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.domain.compliance import Intent  # noqa: E402
from bot.domain.matcher import match  # noqa: E402
from bot.domain.model import Program  # noqa: E402
from bot.domain.opt_out import read  # noqa: E402
from bot.domain.subscription import Status  # noqa: E402
from bot.program.loader import load_program  # noqa: E402

DATA = ROOT / "tests" / "domain" / "data"
LABELLED = DATA / "opt_out_sentences.tsv"
TUNING = DATA / "opt_out_tuning.tsv"
HELD_OUT = DATA / "opt_out_round24.tsv"  # the last round: measured once, not corrected on, not learnt from
LABELS = ("request", "trigger", "ordinary")


@dataclass(frozen=True)
class Example:
    label: str  # "request", "trigger" or "ordinary"
    language: str
    text: str


def examples(path: Path = LABELLED) -> list[Example]:
    found = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t", 2)
        if len(fields) == 2:  # the SMS Spam Collection: personal messages (ham) and spam
            if fields[0] == "ham":
                found.append(Example("ordinary", "en", fields[1]))
            continue
        label, language, text = fields
        if label not in LABELS:
            raise ValueError(f"{path.name}: unknown label {label!r}")
        found.append(Example(label, language, text))
    return found


def outcome(example: Example, program: Program) -> str:
    intent = match(example.text, program, Status.SUBSCRIBED).intent
    if intent is Intent.OPT_OUT:
        return "opted out"
    return "asked" if intent is Intent.UNCLEAR_OPT_OUT else "ordinary"


def figures(items: list[Example], program: Program) -> dict[str, float]:
    counts = Counter((e.label, outcome(e, program)) for e in items)
    found: dict[str, float] = {}
    for label in LABELS:
        total = sum(v for (seen, _), v in counts.items() if seen == label)
        found[label] = total
        found[f"{label} opted out"] = counts[label, "opted out"] / (total or 1)
        found[f"{label} asked"] = counts[label, "asked"] / (total or 1)
    found["honoured"] = found["request opted out"]
    found["request score"] = found["request opted out"] + found["request asked"] / 2
    return found


def misses(items: list[Example], program: Program) -> list[tuple[Example, str]]:
    """What was read otherwise than its label: a request not honoured, a reply opted out or asked."""
    wrong = []
    for example in items:
        seen = outcome(example, program)
        if (example.label == "request") != (seen == "opted out"):
            wrong.append((example, seen))
    return wrong


def cost(items: list[Example], program: Program, rounds: int = 5) -> tuple[float, float]:
    """µs per message: the whole match (opt-out reading included), then the sentence reading alone."""
    texts = [e.text for e in items]
    best_match = best_read = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for text in texts:
            match(text, program, Status.SUBSCRIBED)
        best_match = min(best_match, time.perf_counter() - start)
        start = time.perf_counter()
        for text in texts:
            read(text, program.opt_out_phrases)
        best_read = min(best_read, time.perf_counter() - start)
    return best_match / len(texts) * 1e6, best_read / len(texts) * 1e6


def report(path: Path, program: Program) -> None:
    items = examples(path)
    print(f"\n{path.name}")
    print(
        f"{'':6} {'requests':>8} {'honoured':>8} {'asked':>6} {'score':>6}   "
        f"{'trigger':>7} {'unsub':>6} {'asked':>6}   {'ordinary':>8} {'unsub':>6} {'asked':>6}"
    )
    for language in ["en", "es", "fr", "all"]:
        chosen = [e for e in items if language in ("all", e.language)]
        if not chosen:
            continue
        f = figures(chosen, program)
        print(
            f"{language:6} {f['request']:>8.0f} {f['honoured']:>8.1%} {f['request asked']:>6.1%} "
            f"{f['request score']:>6.1%}   {f['trigger']:>7.0f} {f['trigger opted out']:>6.1%} "
            f"{f['trigger asked']:>6.1%}   {f['ordinary']:>8.0f} {f['ordinary opted out']:>6.2%} "
            f"{f['ordinary asked']:>6.1%}"
        )
    whole, reading = cost(items, program)
    print(f"cost per message: {whole:.1f} µs matched, of it {reading:.1f} µs reading the sentence")


def main() -> None:
    paths = [Path(p) for p in sys.argv[1:]] or [LABELLED, TUNING, HELD_OUT]
    program = load_program(ROOT / "keywords").program
    for path in paths:
        report(path, program)


if __name__ == "__main__":
    main()
