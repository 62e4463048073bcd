"""YAML that remembers where each value came from, so errors can name file and line."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a file: where, and what was expected."""

    file: str
    line: int
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        prefix = "" if self.severity == "error" else f"{self.severity}: "
        return f"{self.file}:{self.line}: {prefix}{self.message}"


class FileProblems(Exception):
    """Raised when a file cannot be used; carries every problem found."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass(frozen=True)
class YamlDoc:
    path: Path
    data: Any

    def line_of(self, loc: Sequence[str | int]) -> int:
        """1-based line of the deepest node on `loc` that exists in the document."""
        node: Any = self.data
        line = 1
        for key in loc:
            if isinstance(node, CommentedMap) and key in node:
                with contextlib.suppress(KeyError, TypeError):
                    line = node.lc.key(key)[0] + 1
                node = node[key]
            elif isinstance(node, CommentedSeq) and isinstance(key, int) and 0 <= key < len(node):
                with contextlib.suppress(KeyError, TypeError):
                    line = node.lc.item(key)[0] + 1
                node = node[key]
            else:
                break
        return line

    def problems_from(self, error: ValidationError, prefix: Sequence[str | int] = ()) -> list[Problem]:
        problems = []
        for item in error.errors():
            loc = [*prefix, *item["loc"]]
            where = ".".join(str(part) for part in loc) or "(top level)"
            problems.append(Problem(str(self.path), self.line_of(loc), f"{where}: {_explain(item)}"))
        return problems


def _explain(item: Any) -> str:
    kind = item["type"]
    if kind == "missing":
        return "is required but missing"
    if kind == "extra_forbidden":
        return "is not a known setting (check the spelling)"
    return str(item["msg"])


_HINTS = {
    "mapping values are not allowed here": ' (a ": " inside a text? put the whole text in quotes)',
    "found character '\\t' that cannot start any token": " (indent with spaces, not tabs)",
}


def load(path: Path) -> YamlDoc:
    """Parse one YAML file; a syntax error becomes a Problem with the line it is on."""
    yaml = YAML(typ="rt")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise FileProblems([Problem(str(path), 1, f"is not UTF-8 text ({exc.reason})")]) from exc
    except OSError as exc:
        raise FileProblems([Problem(str(path), 1, f"cannot be read: {exc.strerror}")]) from exc
    try:
        data = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        what = exc.problem or exc.context or "invalid YAML"
        hint = _HINTS.get(what, "")
        raise FileProblems([Problem(str(path), line, f"YAML syntax: {what}{hint}")]) from exc
    return YamlDoc(path, data if data is not None else CommentedMap())
