"""Which event fields a message reads with nothing to fall back on: `smsbot check` warns of each.

A store may leave out any field but a few (a checkout without line items, a shipment without a
tracking URL). A field read as `{{ event.x | default("...") }}`, or inside `{% if event.x %}`, is
safe; read bare, it renders empty, and a filter given nothing (`currency`, `date`) fails the message
at send time: then it is stored failed, with why, and not sent.
"""

from __future__ import annotations

from collections.abc import Iterator

from jinja2 import nodes

from bot.domain.automations import Trigger
from bot.domain.store_events import REQUIRED
from bot.domain.templates import parse_template

ALWAYS_THERE = frozenset({"type", "occurred_at", "event_id", "order_ref"})  # every run's event has them


def unguarded(source: str, present: frozenset[str] = frozenset()) -> list[str]:
    """The event fields `source` reads without a default or an `if` around it, in order (besides
    those every event that starts the flow has: `present`)."""
    found: dict[str, None] = {}
    _walk(parse_template(source), present, found)
    return list(found)


def guaranteed(trigger: Trigger | None) -> frozenset[str]:
    """The fields every event that fires `trigger` has: its type's required ones, and those its
    conditions test (a condition on a field never holds without it)."""
    if trigger is None:
        return frozenset()
    tested = {c.name for c in trigger.where if not (c.operator == "is_set" and not c.value)}
    return frozenset(REQUIRED.get(trigger.event, ())) | tested


def _walk(node: nodes.Node, guards: frozenset[str], found: dict[str, None]) -> None:
    if isinstance(node, nodes.Filter) and node.name == "default":
        return  # what it defaults, and its fallback, are read with something to fall back on
    if isinstance(node, nodes.If | nodes.CondExpr):
        tested = frozenset(_fields(node.test))
        _walk(node.test, guards | tested, found)
        for branch in _branches(node):
            _walk(branch, guards | tested, found)
        for other in node.else_ if isinstance(node, nodes.If) else (node.expr2,) if node.expr2 else ():
            _walk(other, guards, found)
        return
    field = _field(node)
    if field is not None:
        if field not in guards and field not in ALWAYS_THERE:
            found[field] = None
        _children(node, guards, found)
        return
    _children(node, guards, found)


def _branches(node: nodes.If | nodes.CondExpr) -> list[nodes.Node]:
    if isinstance(node, nodes.CondExpr):
        return [node.expr1]
    return [*node.body, *[part for elif_ in node.elif_ for part in (elif_.test, *elif_.body)]]


def _children(node: nodes.Node, guards: frozenset[str], found: dict[str, None]) -> None:
    for child in node.iter_child_nodes():
        if isinstance(child, nodes.Getattr | nodes.Getitem) and _field(node) is not None:
            if isinstance(child, nodes.Getitem):
                _walk(child.arg, guards, found)
            continue
        _walk(child, guards, found)


def _field(node: nodes.Node) -> str | None:
    """`event.x...` (attributes and items after it): x; anything else: None."""
    while isinstance(node, nodes.Getattr | nodes.Getitem):
        inner = node.node
        if isinstance(inner, nodes.Name) and inner.name == "event":
            if isinstance(node, nodes.Getattr):
                return str(node.attr)
            key = node.arg
            return str(key.value) if isinstance(key, nodes.Const) else None
        node = inner
    return None


def _fields(node: nodes.Node) -> Iterator[str]:
    field = _field(node)
    if field is not None:
        yield field
    for child in node.iter_child_nodes():
        yield from _fields(child)
