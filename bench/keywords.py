"""Loading a 5,000-keyword program, and matching cost as the program grows.

    .venv/bin/python bench/keywords.py

Writes programs of 50, 500 and 5,000 opt-in keywords (each with two alternate spellings, a reply
with tags, and property changes) to a temporary folder, times `load_program` (parse, validate,
compile: index, typo index, templates, checks), then times matching texts that hit a keyword as
the whole message, as the first word, through a one-letter typo, and that match nothing.
"""

from __future__ import annotations

import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.domain.matcher import match
from bot.domain.subscription import Status
from bot.program.loader import load_program

HEADER = """program:
  name: Bench Alerts
  brand: Bench
  help_contact: help@bench.example
  frequency: Up to 4 msgs/month
properties:
  interests: {type: list}
  first_name: text
keywords:
"""
REPLY = (  # NAME becomes the keyword: every reply is a template of its own
    "{{ program }}: Thanks for texting NAME, {{ first_name | default('friend') }}! {{ frequency }}. "
    "Msg&data rates may apply. Reply HELP for help, STOP to opt out."
)


def word(rng: random.Random, used: set[str]) -> str:
    while True:
        candidate = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(rng.randint(6, 10)))
        if candidate not in used:
            used.add(candidate)
            return candidate


def write_program(folder: Path, count: int) -> list[str]:
    rng = random.Random(count)
    used: set[str] = set()
    names = [word(rng, used) for _ in range(count)]
    lines = [HEADER]
    for name in names:
        also = f"[{word(rng, used)}, {word(rng, used)}]"
        reply = REPLY.replace("NAME", name)
        lines.append(
            f'  {name}:\n    also: {also}\n    add: {{interests: {name.lower()}}}\n    reply: "{reply}"\n'
        )
    folder.mkdir(parents=True)
    (folder / "program.yaml").write_text("".join(lines))
    return names


def per_call(fn: object, texts: list[str], program: object, rounds: int = 5) -> float:
    best = []
    for _ in range(rounds):
        started = time.perf_counter()
        for text in texts:
            fn(text, program, Status.SUBSCRIBED)  # type: ignore[operator]
        best.append((time.perf_counter() - started) / len(texts))
    return min(best) * 1e6


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="smsbot-keywords-"))
    print("keywords   load+compile   whole msg   first word   typo      no match   (us per match)")
    try:
        for count in (50, 500, 5000):
            names = write_program(work / str(count), count)
            loads = []
            for _ in range(3):
                started = time.perf_counter()
                loaded = load_program(work / str(count))
                loads.append(time.perf_counter() - started)
            program = loaded.program
            rng = random.Random(1)
            sample = [rng.choice(names) for _ in range(2000)]
            whole = [n.lower() for n in sample]
            first = [f"{n} please" for n in sample]
            typo = [n[:2] + n[3] + n[2] + n[4:] for n in sample]  # two letters swapped
            # Some random typos are one edit from two keywords at once: those match nothing, by design.
            hits = sum(1 for t in typo if match(t, program, Status.SUBSCRIBED).keyword) / len(typo)
            miss = [f"hello there {i}" for i in range(2000)]
            figures = [per_call(match, texts, program) for texts in (whole, first, typo, miss)]
            print(
                f"{count:>8}   {min(loads) * 1000:9.0f} ms   "
                + "   ".join(f"{f:8.1f}" for f in figures)
                + f"   (typos matched: {hits:.1%})"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
