"""Paths in small graphs: reachable nodes, and every node on a cycle."""

from bot.program.graphs import on_cycles, reachable


def test_every_node_on_a_cycle_is_found_whatever_order_it_is_visited_in() -> None:
    # A depth-first search that only slices its current path misses c: it reaches b, already done.
    graph = {"a": ["b", "c"], "b": ["a"], "c": ["b"], "d": ["a"], "e": []}
    assert on_cycles(graph) == {"a", "b", "c"}


def test_reachable_includes_the_starts_and_follows_every_edge() -> None:
    assert reachable({0: [1], 1: [3], 2: [0], 3: []}, [0]) == {0, 1, 3}
    assert reachable({0: [1]}, []) == set()
