"""One subscriber's flow runs while a transaction is decided, so later decisions see earlier ones."""

from __future__ import annotations

from collections.abc import Collection, Iterable
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

RunName = tuple[str, str]  # (flow, event key): one subscriber's run; the key is '' but per event


@dataclass
class RunBook:
    current: dict[RunName, RunState | None] = field(default_factory=dict)  # None: ended in this transaction
    new: dict[RunName, str] = field(default_factory=dict)  # runs started here -> what started them
    moved: set[RunName] = field(default_factory=set)  # runs that existed before and moved on
    left: list[tuple[str, str, int]] = field(default_factory=list)  # (flow, answered | timed_out, step)
    cancelled: bool = False

    def flows(self) -> Flows:
        active = {flow for (flow, _), state in self.current.items() if state is not None}
        waiting = next((s for s in self.current.values() if s is not None and s.waiting), None)
        return Flows(frozenset(active), waiting)

    def cancel(self) -> None:
        self.current.clear()
        self.new.clear()
        self.moved.clear()
        self.cancelled = True

    def apply(self, change: RunChange, started_by: str) -> None:
        self.current[change.name] = change.state
        if change.left is not None:
            self.left.append((change.flow, *change.left))
        if change.started:
            self.new[change.name] = started_by
        elif change.name not in self.new:
            self.moved.add(change.name)


def load_books(conn: Connection, subscriber_ids: Iterable[int]) -> dict[int, RunBook]:
    """Every active run of these subscribers, in one indexed statement."""
    books: dict[int, RunBook] = {}
    ids = list(subscriber_ids)
    if ids:
        for run in conn.execute(ACTIVE_RUNS, {"ids": ids}).mappings():
            state = rows.run_state(run)
            books.setdefault(run["subscriber_id"], RunBook()).current[state.name] = state
    return books


def write_books(
    conn: Connection, books: dict[int, RunBook], now: datetime, made: Collection[int] = ()
) -> int:
    """Store what the transaction did to runs, one statement per kind; the number of runs started.
    Subscribers `made` in this transaction have no stored run or queued message to cancel."""
    cancelled = [
        {"b_subscriber": s, "b_now": now} for s, book in books.items() if book.cancelled and s not in made
    ]
    if cancelled:
        executemany(conn, CANCEL_RUNS, cancelled)
        executemany(conn, CANCEL_OUTBOX, cancelled)
    started = [
        rows.new_run(s, name[0], book.current.get(name), started_by, now) | {"run_key": name[1]}
        for s, book in books.items()
        for name, started_by in book.new.items()
    ]
    if started:  # a flow already running for the subscriber is not started twice
        executemany(conn, START_RUN[conn.dialect.name], started)
    moved = [_moved(s, name, book.current.get(name), now) for s, book in books.items() for name in book.moved]
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


def _moved(subscriber_id: int, name: RunName, state: RunState | None, now: datetime) -> dict[str, Any]:
    values = rows.run_values(state, now)
    return {
        "b_subscriber": subscriber_id,
        "b_flow": name[0],
        "b_key": name[1],
        "b_now": now,
        **{f"b_{k}": v for k, v in values.items()},
    }
