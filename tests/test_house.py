"""The layout's rules, checked on the source: they hold because a test fails when they break.

- `bot.domain` is pure: it imports nothing else of `bot` (only the standard library and the
  parsing, i18n and state-machine libraries).
- No import cycle anywhere in `bot`, counting imports made only for type checking or inside a
  function: a cycle there is still two modules that cannot be understood one without the other.
  Nor between its packages (`bot.http`, `bot.dashboard`, `bot.app`...): each can be read on top of
  those it uses, and the app factory composes them.
- Twilio's names (its SDK, our Twilio package, identifiers with "twilio" in them) appear only
  under `channels/twilio/`, in the `http/` routes, in settings and in the one line of
  `channels/__init__.py` that picks the channel.
- No function in `bot` is longer than a reader can hold at once.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

from bot.program.graphs import on_cycles

BOT = Path(__file__).resolve().parent.parent / "bot"
MAX_FUNCTION_LINES = 60
TWILIO_ALLOWED = ("channels/twilio/", "http/", "settings.py", "channels/__init__.py")


def module_name(path: Path) -> str:
    parts = path.relative_to(BOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(BOT.rglob("*.py")) if "migrations" not in path.parts}


@cache
def tree(name: str) -> ast.Module:
    path = modules()[name]
    return ast.parse(path.read_text(encoding="utf-8"), str(path))


def imported(name: str) -> set[str]:
    """Every module of `bot` that `name` imports, anywhere in the file."""
    found: set[str] = set()
    package = name if modules()[name].name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree(name)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    [*package.split(".")[: len(package.split(".")) - node.level + 1], base]
                ).strip(".")
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {module for module in found if module in modules() and module != name}


def test_the_domain_imports_nothing_else_of_bot() -> None:
    outside = {
        name: sorted(m for m in imported(name) if not m.startswith("bot.domain"))
        for name in modules()
        if name.startswith("bot.domain")
    }
    assert {name: found for name, found in outside.items() if found} == {}


def test_no_module_of_bot_imports_itself_through_others() -> None:
    assert on_cycles({name: imported(name) for name in modules()}) == set()


def package(name: str) -> str:
    """The part of `bot` a module belongs to: bot.http.admin -> bot.http; bot.app -> bot.app."""
    return ".".join(name.split(".")[:2])


def test_no_package_of_bot_imports_itself_through_others() -> None:
    graph: dict[str, set[str]] = {}
    for name in modules():
        graph.setdefault(package(name), set()).update(
            package(other) for other in imported(name) if package(other) != package(name)
        )
    assert on_cycles(graph) == set()


def test_the_cycle_check_finds_a_cycle_when_there_is_one() -> None:
    graph = {"bot.a": ["bot.b"], "bot.b": ["bot.c"], "bot.c": ["bot.a"], "bot.d": ["bot.a"]}
    assert on_cycles(graph) == {"bot.a", "bot.b", "bot.c"}  # bot.d leads into one, but is on none


def twilio_names(name: str) -> Iterator[str]:
    """Identifiers and imports of a module that name Twilio (comments and docstrings aside)."""
    for node in ast.walk(tree(name)):
        if isinstance(node, ast.Name):
            words = [node.id]
        elif isinstance(node, ast.Attribute):
            words = [node.attr]
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            words = [node.name]
        elif isinstance(node, ast.Import):
            words = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            words = [node.module or "", *(alias.name for alias in node.names)]
        else:
            continue
        yield from (word for word in words if "twilio" in word.lower())


def test_twilio_is_named_only_in_its_channel_the_http_routes_and_settings() -> None:
    leaks = {
        name: sorted(set(twilio_names(name)))
        for name, path in modules().items()
        if not str(path.relative_to(BOT)).startswith(TWILIO_ALLOWED)
    }
    assert {name: words for name, words in leaks.items() if words} == {}


def long_functions() -> Iterator[str]:
    for name in modules():
        for node in ast.walk(tree(name)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    yield f"{name}.{node.name}: {length} lines"


def test_no_function_is_longer_than_a_reader_can_hold_at_once() -> None:
    assert list(long_functions()) == []


@pytest.mark.parametrize(
    "name", ["bot.domain.conversation", "bot.pipeline.changes", "bot.channels.twilio.twiml"]
)
def test_the_module_list_sees_the_house(name: str) -> None:
    assert name in modules()


def test_pyproject_lists_every_package_and_the_catalogs() -> None:
    """A new package under bot/ that pyproject.toml does not list would be missing from the wheel."""
    import tomllib

    from tests.conftest import ROOT

    setup = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    found = {".".join(init.parent.relative_to(ROOT).parts) for init in (ROOT / "bot").rglob("__init__.py")}
    assert set(setup["packages"]) == found | {"bot.locales"}
    assert setup["package-dir"] == {"bot.locales": "locales"}
