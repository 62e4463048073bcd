"""YAML that remembers where each value came from, so errors can name file and line.

Parsed by libyaml (PyYAML's C composer), fast enough for a program of thousands of keywords. The
nodes are turned into plain data here, with YAML 1.2's core schema: only true/false are booleans,
so a keyword named NO, YES, ON or OFF stays a word (YAML 1.1 would make it a boolean). A key
written twice in one mapping is an error, not a silent overwrite.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BaseLoader):  # type: ignore[misc]
    """libyaml's parser without PyYAML's YAML 1.1 resolver, whose answers _scalar() replaces anyway."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        if kind is yaml.ScalarNode:
            return "tag:yaml.org,2002:str"
        return "tag:yaml.org,2002:seq" if kind is yaml.SequenceNode else "tag:yaml.org,2002:map"


_INT = re.compile(r"^[-+]?[0-9]+$")
_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_HINTS = {  # what libyaml says starts with the key
    "mapping values are not allowed": ' (a ": " inside a text? put the whole text in quotes)',
    "found character '\\t' that cannot start any token": " (indent with spaces, not tabs)",
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a file: where, and what was expected."""

    file: str
    line: int
    message: str
    severity: str = "error"  # error | warning | info

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
    lines: dict[tuple[str | int, ...], int] = field(default_factory=dict, repr=False)

    def line_of(self, loc: Sequence[str | int]) -> int:
        """1-based line of the deepest node on `loc` that exists in the document."""
        for end in range(len(loc), 0, -1):
            line = self.lines.get(tuple(loc[:end]))
            if line is not None:
                return line
        return 1

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


def _scalar(node: yaml.ScalarNode) -> Any:
    value: str = node.value
    if node.style not in ("", None):  # quoted or block text is always text
        return value
    if value in ("", "~", "null", "Null", "NULL"):
        return None
    if value in ("true", "True", "TRUE"):
        return True
    if value in ("false", "False", "FALSE"):
        return False
    if _INT.match(value):
        return int(value)
    if _FLOAT.match(value):
        return float(value)
    if value.lower() in (".inf", "+.inf", "-.inf"):
        return -math.inf if value.startswith("-") else math.inf
    return value


class _Builder:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.lines: dict[tuple[str | int, ...], int] = {}
        self.problems: list[Problem] = []

    def build(self, node: yaml.Node, loc: tuple[str | int, ...]) -> Any:
        if isinstance(node, yaml.MappingNode):
            result: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = self.build(key_node, loc)
                if isinstance(key, dict | list):
                    self.problems.append(
                        Problem(str(self.path), key_node.start_mark.line + 1, "a key must be a word")
                    )
                    continue
                here = (*loc, key if isinstance(key, str) else str(key))
                line = key_node.start_mark.line + 1
                if key in result:
                    self.problems.append(
                        Problem(
                            str(self.path),
                            line,
                            f"{key} is written twice here (first on line {self.lines[here]})",
                        )
                    )
                    continue
                self.lines[here] = line
                result[key if isinstance(key, str) else str(key)] = self.build(value_node, here)
            return result
        if isinstance(node, yaml.SequenceNode):
            items = []
            for i, item in enumerate(node.value):
                self.lines[(*loc, i)] = item.start_mark.line + 1
                items.append(self.build(item, (*loc, i)))
            return items
        assert isinstance(node, yaml.ScalarNode)
        return _scalar(node)


def load(path: Path) -> YamlDoc:
    """Parse one YAML file; a syntax error becomes a Problem with the line it is on."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise FileProblems([Problem(str(path), 1, f"is not UTF-8 text ({exc.reason})")]) from exc
    except OSError as exc:
        raise FileProblems([Problem(str(path), 1, f"cannot be read: {exc.strerror}")]) from exc
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        what = exc.problem or exc.context or "invalid YAML"
        hint = next((h for start, h in _HINTS.items() if what.startswith(start)), "")
        raise FileProblems([Problem(str(path), line, f"YAML syntax: {what}{hint}")]) from exc
    except yaml.YAMLError as exc:
        raise FileProblems([Problem(str(path), 1, f"YAML syntax: {exc}")]) from exc
    if node is None:
        return YamlDoc(path, {})
    builder = _Builder(path)
    data = builder.build(node, ())
    if builder.problems:
        raise FileProblems(builder.problems)
    return YamlDoc(path, data, builder.lines)
