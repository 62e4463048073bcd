"""One-letter typos of keywords (JION, JOINN, JON, JOIM), found in constant time.

Symmetric deletes: at load, every word is indexed under each of its one-letter deletions; a texted
word then costs len(word) + 1 dictionary probes, whatever the number of keywords. Candidates are
confirmed by a true one-edit check (insertion, deletion, substitution, adjacent transposition).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

MIN_LENGTH = 4  # shorter keywords are too close to ordinary words to guess at


def deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def one_edit(a: str, b: str) -> bool:
    """True when a and b differ by exactly one insertion, deletion, substitution or transposition."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        return (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


class TypoIndex:
    def __init__(self, words: Mapping[str, str], blocked: Iterable[str] = ()) -> None:
        """`words`: folded word -> keyword name, for the words that accept typos.

        `blocked`: words a typo must not be near (compliance words): "STPO" might be STOP, so it
        matches no keyword, whatever keyword it is also near.
        """
        self._words = dict(words)
        self._keywords = _Neighbours(self._words)
        self._blocked = _Neighbours(blocked)
        # One edit from a word can be at most one letter longer: a longer word is no typo of any.
        self._longest = max(map(len, [*self._words, *self._blocked.words]), default=0) + 1

    def candidates(self, texted: str) -> set[str]:
        """Keyword words within one edit of `texted`."""
        return self._keywords.within_one_edit(texted, deletions(texted))

    def near_blocked(self, texted: str) -> bool:
        return bool(self._blocked.within_one_edit(texted, deletions(texted)))

    def match(self, texted: str) -> str | None:
        """The one keyword `texted` is a typo of; None when none, or when two keywords are that close."""
        if not MIN_LENGTH - 1 <= len(texted) <= self._longest:
            return None
        variants = deletions(texted)  # worked out once, for the blocked words and the keywords
        if self._blocked.within_one_edit(texted, variants):
            return None
        names = {self._words[word] for word in self._keywords.within_one_edit(texted, variants)}
        return names.pop() if len(names) == 1 else None


class _Neighbours:
    """Words indexed under each of their one-letter deletions (symmetric deletes)."""

    def __init__(self, words: Iterable[str]) -> None:
        self.words = frozenset(words)
        self._deleted: dict[str, set[str]] = {}
        for word in self.words:
            for variant in deletions(word):
                self._deleted.setdefault(variant, set()).add(word)
        # What a texted word's deletions must meet for any word to be near it.
        self._near = frozenset({*self.words, *self._deleted})

    def within_one_edit(self, texted: str, variants: set[str]) -> set[str]:
        """The words one edit from `texted`; `variants`: `texted` with each one letter deleted.
        Most texted words are near nothing: two look-ups tell so before any candidate is gathered."""
        if texted not in self._deleted and self._near.isdisjoint(variants):
            return set()
        found: set[str] = set(self._deleted.get(texted, ()))  # a letter left out
        for variant in variants:
            if variant in self.words:  # a letter too many
                found.add(variant)
            found |= self._deleted.get(variant, set())  # a letter changed or two swapped
        return {word for word in found if one_edit(texted, word)}
