"""What operators watch, in Prometheus' text format: `GET /metrics` with the metrics token.

Each process counts its own; with several (the web processes and the worker under `smsbot serve`),
the supervisor gives them a shared directory (PROMETHEUS_MULTIPROC_DIR, under the data directory,
emptied at start) and `/metrics` adds them up, whichever process answers. Every name is in
`NAMES`: the Grafana dashboard in docs/ is held to it by a test.

Nothing here holds a phone number, a body or a secret: labels are intents, purposes, statuses,
error codes and event types.
"""

from __future__ import annotations

import os
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_LATEST
_FAST = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)

INBOUND = Counter(
    "smsbot_inbound_messages",
    "Texts received from subscribers, by what they meant and what came of it",
    ["intent", "outcome"],
)
OUTBOUND = Counter(
    "smsbot_outbound_messages",
    "Texts going out: replies in the webhook's answer, and what the worker hands over",
    ["purpose", "status"],
)
CARRIER_ERRORS = Counter(
    "smsbot_carrier_errors",
    "Messages the carrier refused or could not deliver (at hand-over or in a status callback), by code",
    ["code"],
)
WEBHOOK_SECONDS = Histogram(
    "smsbot_webhook_seconds", "Time to answer the carrier's webhook (an inbound text)", buckets=_FAST
)
WRITER_BATCH = Histogram(
    "smsbot_writer_batch_size",
    "Writes committed together by the group-commit writer",
    buckets=(1, 2, 5, 10, 20, 50, 100, 200),
)
WRITER_SECONDS = Histogram(
    "smsbot_writer_transaction_seconds", "Time of the writer's transactions", buckets=_FAST
)
BACKEND_ERRORS = Counter(
    "smsbot_backend_errors",
    "Errors talking to the database or Redis (a 503, or a worker's retry)",
    ["backend"],
)
DUE_BACKLOG = Gauge(
    "smsbot_worker_due_backlog",
    "Messages due now and not yet handed to the carrier, at the worker's last look",
    multiprocess_mode="mostrecent",
)
LATENESS = Histogram(
    "smsbot_worker_lateness_seconds",
    "How late a message reached the carrier beyond when it was due",
    buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600),
)
CAMPAIGNS_SENDING = Gauge("smsbot_campaigns_sending", "Campaigns sending now", multiprocess_mode="mostrecent")
RECIPIENTS_LEFT = Gauge(
    "smsbot_campaign_recipients_left",
    "Recipients of sending campaigns not yet queued",
    multiprocess_mode="mostrecent",
)
STORE_EVENTS = Counter(
    "smsbot_store_events", "Store events received in calls that stored any, by type", ["type"]
)
CLICKS = Counter("smsbot_clicks", "Taps on tracked links (previews: link-preview fetchers)", ["preview"])

# Every metric name /metrics exports (counters with their _total), for the dashboard's test.
NAMES = frozenset(
    {
        "smsbot_inbound_messages_total",
        "smsbot_outbound_messages_total",
        "smsbot_carrier_errors_total",
        "smsbot_webhook_seconds",
        "smsbot_writer_batch_size",
        "smsbot_writer_transaction_seconds",
        "smsbot_backend_errors_total",
        "smsbot_worker_due_backlog",
        "smsbot_worker_lateness_seconds",
        "smsbot_campaigns_sending",
        "smsbot_campaign_recipients_left",
        "smsbot_store_events_total",
        "smsbot_clicks_total",
    }
)


def inbound_answered(applied: Any, seconds: float) -> None:
    """A webhook answered: how long it took, what the text meant and what came of it."""
    WEBHOOK_SECONDS.observe(seconds)
    if applied is None or applied.duplicate or applied.outcome is None:
        INBOUND.labels("replayed", "duplicate").inc()
        return
    INBOUND.labels(applied.outcome.intent.value, "replied" if applied.replies else "silent").inc()
    if applied.replies:
        OUTBOUND.labels("reply", "queued").inc(len(applied.replies))


def handed_over(purpose: str, status: str | None, error_code: int | None, late: float | None) -> None:
    """A message the worker handed to the carrier (or tried to): its status, error and lateness."""
    OUTBOUND.labels(purpose or "marketing", status or "failed").inc()
    if error_code is not None:
        CARRIER_ERRORS.labels(str(error_code)).inc()
    if late is not None:
        LATENESS.observe(max(0.0, late))


def count_backend_error(exc: BaseException) -> None:
    """A failure of the database or of Redis, counted by which (anything else is not theirs)."""
    module = type(exc).__module__
    if module.startswith(("sqlalchemy", "asyncpg", "sqlite3", "aiosqlite")):
        BACKEND_ERRORS.labels("database").inc()
    elif module.startswith("redis"):
        BACKEND_ERRORS.labels("redis").inc()


def exposition() -> bytes:
    """Every process's metrics, in the text format."""
    if os.environ.get(MULTIPROC_DIR):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return bytes(generate_latest(registry))
    return bytes(generate_latest(REGISTRY))
