"""Paths in a directed graph: which nodes can be reached (flow steps that can run), which can reach
themselves again (flows that spin, segments that include themselves). Small graphs, read once
when the program loads."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from typing import TypeVar

Node = TypeVar("Node", bound=Hashable)


def on_cycles(graph: Mapping[Node, Iterable[Node]]) -> set[Node]:
    """Every node that lies on a cycle: one of its successors leads back to it."""
    return {node for node in graph if node in reachable(graph, graph[node])}


def reachable(graph: Mapping[Node, Iterable[Node]], starts: Iterable[Node]) -> set[Node]:
    """Every node a path from `starts` (included) can reach."""
    seen: set[Node] = set()
    todo = list(starts)
    while todo:
        node = todo.pop()
        if node not in seen:
            seen.add(node)
            todo.extend(graph.get(node, ()))
    return seen
