"""Message templates: Jinja2 in a sandbox, compiled once when the program loads."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jinja2 import TemplateSyntaxError, Undefined, meta
from jinja2.sandbox import ImmutableSandboxedEnvironment

# A property a subscriber has not given yet renders empty (use `| default("there")`); a name no
# one declared is an error of `smsbot check`, not of the message.
_ENV = ImmutableSandboxedEnvironment(autoescape=False, undefined=Undefined, keep_trailing_newline=False)


class TemplateProblem(ValueError):
    def __init__(self, message: str, line: int = 1) -> None:
        super().__init__(message)
        self.line = line


@dataclass(frozen=True)
class MessageTemplate:
    source: str
    names: frozenset[str]  # the tags it uses, for the checker
    _compiled: Any

    def render(self, context: Mapping[str, Any]) -> str:
        if not self.names:
            return self.source
        return " ".join(str(self._compiled.render(context)).split())


def compile_template(source: str) -> MessageTemplate:
    try:
        ast = _ENV.parse(source)
        compiled = _ENV.from_string(source)
    except TemplateSyntaxError as exc:
        raise TemplateProblem(f"template error: {exc.message}", exc.lineno or 1) from exc
    names = frozenset(meta.find_undeclared_variables(ast))
    return MessageTemplate(source=source, names=names, _compiled=compiled)
