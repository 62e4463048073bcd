"""Frozen at startup, the cyclic collector leaves what lived then alone, until a reload lets it back."""

import gc
import weakref

from bot import memory


class Node:
    me: object


def test_what_a_reload_left_behind_is_collected_though_it_was_frozen() -> None:
    old_program = Node()
    old_program.me = old_program  # a cycle: only the cyclic collector frees it
    gone = weakref.ref(old_program)
    memory.freeze_startup()
    try:
        del old_program
        gc.collect()
        assert gone() is not None  # frozen: full collections no longer walk it
        memory.refreeze()
        assert gone() is None
    finally:
        gc.unfreeze()


def test_nothing_is_frozen_by_a_reload_where_nothing_was_frozen() -> None:
    memory.refreeze()
    assert gc.get_freeze_count() == 0
