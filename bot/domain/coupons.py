"""Unique coupon codes: `{{ coupon("welcome10") }}` in a message.

As with tracked links, rendering only marks where a code goes and from which pool; the pipeline,
which stores the message, swaps each mark for a code of the pool given to that recipient (the same
code again if the same campaign or flow writes to them again) in the same transaction. A pool
without a code left holds the message back: it is never sent with an empty code.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.domain.links import unmarked

POOL_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,59}$")  # as it goes in YAML and on the command line
NO_COUPON = "no_coupon"  # the reason on a message held back because its pool had no code left
CODE_MAX = 100  # characters: a store's codes are far shorter (Shopify's at most 255, in practice ~20)
_OPEN, _CLOSE = "\ue003", "\ue004"  # private-use characters, apart from the links' marks
_MARK = re.compile(f"{_OPEN}([^{_CLOSE}]*){_CLOSE}")


def mark(pool: str) -> str:
    """What `coupon(pool)` renders to: where the pool's code goes."""
    return f"{_OPEN}{pool}{_CLOSE}"


def pools_in(text: str) -> list[str]:
    """The pools a rendered message draws codes from, in order, each once."""
    return list(dict.fromkeys(found.group(1) for found in _MARK.finditer(text)))


class PoolEmpty(Exception):
    """A pool had no code left for a message: it is held back with NO_COUPON, not sent."""

    def __init__(self, pool: str) -> None:
        super().__init__(f"coupon pool {pool!r} has no code left")
        self.pool = pool


def swap(text: str, code_for: Callable[[str], str | None]) -> str:
    """`text` with each mark replaced by the pool's code for this recipient; PoolEmpty when a pool
    has none (before anything is swapped: the caller holds the message back)."""
    if _OPEN not in text:
        return text
    codes = {pool: code_for(pool) for pool in pools_in(text)}
    for pool, code in codes.items():
        if code is None:
            raise PoolEmpty(pool)
    return _MARK.sub(lambda found: codes[found.group(1)] or "", text)


SAMPLE_CODE = "SMS-7KQ2M9XP"  # the length of a store's generated code, for previews and segment counts


def sample(text: str, code: str = SAMPLE_CODE) -> str:
    """A preview's text: each mark a sample code of typical length (a segment count stays honest)."""
    return _MARK.sub(code, text)


def placeholders(text: str) -> str:
    """Each mark as "[pool code]": what `smsbot chat` shows, giving no real code to a pretend number."""
    return _MARK.sub(lambda found: f"[{found.group(1)} code]", text)


def held_text(text: str, empty: str | None = None) -> str:
    """What a message that is not sent keeps as its text: where each code would have gone, and
    which pool had none left (`empty`); no code is given to a message that does not go."""

    def said(found: re.Match[str]) -> str:
        pool = found.group(1)
        return f"[no {pool} code left]" if pool == empty else f"[{pool} code]"

    return unmarked(_MARK.sub(said, text))


def read_codes(lines: Iterable[str]) -> tuple[list[str], list[tuple[int, str]]]:
    """The codes of a file as stores export them: one a line, or a CSV whose first column is the
    code (Shopify's bulk export heads it "Code"); blank lines and a header are skipped, a code seen
    twice is kept once. Returns (codes, [(line, problem)])."""
    codes: dict[str, None] = {}
    problems: list[tuple[int, str]] = []
    for number, raw in enumerate(lines, start=1):
        code = raw.strip().split(",")[0].strip().strip('"').strip()
        if not code or (number == 1 and code.lower() in ("code", "codes", "discount code", "coupon")):
            continue
        if len(code) > CODE_MAX or any(c.isspace() or not c.isprintable() for c in code):
            problems.append(
                (
                    number,
                    f"{code[:40]!r}: expected a code of at most {CODE_MAX} printable "
                    "characters without spaces",
                )
            )
            continue
        codes.setdefault(code, None)
    return list(codes), problems


def discount_codes(properties: Mapping[str, Any]) -> list[str]:
    """The discount codes an order was placed with: Shopify's `discount_codes` ([{code, amount,
    type}]) or a list of codes, as the events API may give them. Compared without case, as Shopify
    does."""
    given = properties.get("discount_codes")
    if isinstance(given, str):
        given = [given]
    if not isinstance(given, list):
        return []
    found = (item.get("code") if isinstance(item, Mapping) else item for item in given)
    return [str(code).strip() for code in found if isinstance(code, str | int) and str(code).strip()]


@dataclass(frozen=True)
class CouponPool:
    """A pool the program declares (`coupons:` in YAML); its codes are loaded into the database."""

    name: str
    description: str = ""
    low_at: int = 0  # `smsbot check` and `smsbot coupons list` warn when fewer codes are left
    defined_at: tuple[str, int] = ("", 0)  # file and line, for what `smsbot check` says of it
