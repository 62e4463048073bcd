"""Python's cyclic garbage collector, kept off the event loop's back in long-running processes.

A full collection walks every object the process holds. A web process holds some 150,000 once it has
started (the keyword program, the tables, the modules), and each full collection paused its event
loop for 70 to 150 ms: most of the webhook's p99 at a steady rate (bench/webhook.py's open loop). What
exists once a process has started lives as long as it does, so it is frozen: collections then walk
only what came after, and take a few milliseconds.
"""

from __future__ import annotations

import gc


def freeze_startup() -> None:
    """Collect once, then keep everything alive now out of every later collection."""
    gc.collect()
    gc.freeze()


def refreeze() -> None:
    """After a new keyword program replaced the old one: let the collector at what the old one left
    (one full collection), then freeze again. Nothing happens where nothing was frozen (tests)."""
    if gc.get_freeze_count():
        gc.unfreeze()
        freeze_startup()
