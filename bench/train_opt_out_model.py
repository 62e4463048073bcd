"""Train the opt-out model on our labelled sets and write it where the package ships it.

    .venv/bin/python bench/train_opt_out_model.py          # write bot/domain/opt_out_model.json
    .venv/bin/python bench/train_opt_out_model.py --check  # fail if the shipped model is not this

Every `opt_out_*.tsv` in `tests/domain/data/` teaches it but the held-out rounds, which it never
sees. `--cross` measures the model alone, each set left out of its training in turn (lines also in
another set left out of the measure), at the thresholds `bot/domain/opt_out.py` uses.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.opt_outs import DATA, examples  # noqa: E402
from bot.domain import opt_out_model  # noqa: E402
from bot.domain.opt_out import DOUBT, SURE, UNLIKE, example  # noqa: E402
from bot.domain.opt_out_model import Example, Model, dumps, train  # noqa: E402

HELD_OUT = ("opt_out_round23.tsv", "opt_out_round24.tsv", "opt_out_round25.tsv")  # never learnt from
SHIPPED = ROOT / "bot" / "domain" / opt_out_model.SHIPPED


def sources() -> list[Path]:
    return sorted(p for p in DATA.glob("opt_out_*.tsv") if p.name not in HELD_OUT)


def learnt(path: Path) -> list[Example]:
    return [Example(*example(e.text), request=e.label == "request") for e in examples(path)]


def built() -> str:
    paths = sources()
    model = train(e for path in paths for e in learnt(path))
    return dumps(model, {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths})


def cross() -> None:
    sets = {p.name: examples(p) for p in sources()}
    seen: dict[str, list[float]] = {"request": [], "trigger": [], "ordinary": []}
    for name, left in sets.items():
        others = [e for other, items in sets.items() if other != name for e in items]
        known = {" ".join(example(e.text)[0]) for e in others}
        model: Model = train(Example(*example(e.text), request=e.label == "request") for e in others)
        for e in left:
            words, question, smiling = example(e.text)
            if " ".join(words) not in known:
                seen[e.label].append(model.probability(words, question, smiling))
    for label, found in seen.items():
        shares = ", ".join(f"≥ {t}: {sum(p >= t for p in found) / len(found):.1%}" for t in (SURE, DOUBT))
        low = sum(p < UNLIKE for p in found) / len(found)
        print(f"{label:9} {len(found):5}  {shares}, < {UNLIKE}: {low:.1%}")


def main() -> None:
    if "--cross" in sys.argv:
        cross()
        return
    text = built()
    if "--check" in sys.argv:
        if SHIPPED.read_text(encoding="utf-8") != text:
            sys.exit(f"{SHIPPED} is not what the sets teach: run bench/train_opt_out_model.py")
        print("the shipped model is what the sets teach")
        return
    SHIPPED.write_text(text, encoding="utf-8")
    print(f"wrote {SHIPPED.relative_to(ROOT)}: {text.count(chr(10))} lines")


if __name__ == "__main__":
    main()
