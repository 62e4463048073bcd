"""One subscriber's flow runs while a transaction is decided, so later decisions see earlier ones."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from bot.domain.flow_runner import RunState
from bot.domain.outcome import Flows, RunChange
from bot.store import rows
from bot.store.bulk import executemany
from bot.store.statements import (
    ACTIVE_RUNS,
    CANCEL_OUTBOX,
    CANCEL_RUNS,
    INSERT_DELTAS,
    MOVE_RUN,
    START_RUN,
)


@dataclass
class RunBook:
    current: dict[str, RunState | None] = field(default_factory=dict)  # None: ended in this transaction
    new: dict[str, str] = field(default_factory=dict)  # flows started here -> what started them
    moved: set[str] = field(default_factory=set)  # runs that existed before and moved on
    left: list[tuple[str, str, int]] = field(default_factory=list)  # (flow, answered | timed_out, step)
    cancelled: bool = False

    def flows(self) -> Flows:
        active = {flow for flow, state in self.current.items() if state is not None}
        waiting = next((s for s in self.current.values() if s is not None and s.waiting), None)
        return Flows(frozenset(active), waiting)

    def cancel(self) -> None:
        self.current.clear()
        self.new.clear()
        self.moved.clear()
        self.cancelled = True

    def apply(self, change: RunChange, started_by: str) -> None:
        self.current[change.flow] = change.state
        if change.left is not None:
            self.left.append((change.flow, *change.left))
        if change.started:
            self.new[change.flow] = started_by
        elif change.flow not in self.new:
            self.moved.add(change.flow)


def load_books(conn: Connection, subscriber_ids: Iterable[int]) -> dict[int, RunBook]:
    """Every active run of these subscribers, in one indexed statement."""
    books: dict[int, RunBook] = {}
    ids = list(subscriber_ids)
    if ids:
        for run in conn.execute(ACTIVE_RUNS, {"ids": ids}).mappings():
            books.setdefault(run["subscriber_id"], RunBook()).current[run["flow"]] = rows.run_state(run)
    return books


def write_books(conn: Connection, books: dict[int, RunBook], now: datetime) -> int:
    """Store what the transaction did to runs, one statement per kind; the number of runs started."""
    cancelled = [{"b_subscriber": s, "b_now": now} for s, book in books.items() if book.cancelled]
    if cancelled:
        executemany(conn, CANCEL_RUNS, cancelled)
        executemany(conn, CANCEL_OUTBOX, cancelled)
    started = [
        rows.new_run(s, flow, book.current.get(flow), started_by, now)
        for s, book in books.items()
        for flow, started_by in book.new.items()
    ]
    if started:  # a flow already running for the subscriber is not started twice
        executemany(conn, START_RUN[conn.dialect.name], started)
    moved = [_moved(s, flow, book.current.get(flow), now) for s, book in books.items() for flow in book.moved]
    executemany(conn, MOVE_RUN, moved)
    _count_questions(conn, books, now)
    return len(started)


def _count_questions(conn: Connection, books: dict[int, RunBook], now: datetime) -> None:
    """Questions answered or left unanswered, counted for the Flows page's funnel (the runs' rows
    keep only where each run is now, so the pipeline counts these two itself)."""
    hour = int(now.timestamp() // 3600)
    counted = [
        {"hour": hour, "metric": f"flow_{how}", "label": f"{flow}:{step}", "n": 1, "amount": 0}
        for book in books.values()
        for flow, how, step in book.left
    ]
    executemany(conn, INSERT_DELTAS, counted)


def _moved(subscriber_id: int, flow: str, state: RunState | None, now: datetime) -> dict[str, Any]:
    values = rows.run_values(state, now)
    return {
        "b_subscriber": subscriber_id,
        "b_flow": flow,
        "b_now": now,
        **{f"b_{k}": v for k, v in values.items()},
    }
