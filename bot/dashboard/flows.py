"""The dashboard's Flows page: each flow as a funnel, step by step (how many runs reached it, how
many answered its question or let it time out, how many stopped there by an opt-out or an
automation's exit), and what its messages earned."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from aiohttp import web

from bot.dashboard import auth
from bot.dashboard.render import render
from bot.domain.activity import AllTime, money_by_owner, n_of
from bot.domain.flows import Flow, StepKind
from bot.domain.store_events import Money
from bot.http.admin import read
from bot.services import SERVICES
from bot.store import activity

METRICS = (
    "flow_started",
    "flow_reached",
    "flow_answered",
    "flow_timed_out",
    "flow_completed",
    "flow_stopped",
    "earned",
)
RESTING = (StepKind.WAIT, StepKind.ASK)  # where a run waits between two transactions


def setup(app: web.Application) -> None:
    app.router.add_get("/dashboard/flows", listing)


@auth.logged_in
async def listing(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    found = await read(services, activity.totals, METRICS)
    flows = [_funnel(flow, found) for flow in services.program.current.flows.values()]
    return render(request, "flows.html", flows=flows)


def _funnel(flow: Flow, found: AllTime) -> dict[str, Any]:
    started = n_of(found, "flow_started", flow.name)
    completed = n_of(found, "flow_completed", flow.name)
    stopped = sum(n_of(found, "flow_stopped", f"{flow.name}:{i}") for i in range(len(flow.steps)))
    steps = [
        {
            "number": i + 1,
            "kind": step.kind.value,
            "id": step.id or "",
            "reached": n_of(found, "flow_reached", f"{flow.name}:{i}") if step.kind in RESTING else None,
            "answered": _asked(found, "flow_answered", flow.name, i, step.kind),
            "timed_out": _asked(found, "flow_timed_out", flow.name, i, step.kind),
            "stopped": n_of(found, "flow_stopped", f"{flow.name}:{i}"),
        }
        for i, step in enumerate(flow.steps)
    ]
    return {
        "name": flow.name,
        "trigger": flow.automation.starts_on,
        "started": started,
        "completed": completed,
        "stopped": stopped,
        "active": max(0, started - completed - stopped),
        "steps": steps,
        "earned": _earned(flow.name, found["earned"]),
    }


def _asked(found: AllTime, metric: str, flow: str, step: int, kind: StepKind) -> int | None:
    """What became of a question (None for a step that asks nothing)."""
    return n_of(found, metric, f"{flow}:{step}") if kind is StepKind.ASK else None


def _earned(name: str, counts: dict[str, tuple[int, int]]) -> dict[str, tuple[int, Decimal]]:
    """Orders credited to the flow's messages and their value, by currency."""
    mine = money_by_owner(counts).get(f"flow:{name}", {})
    return {currency: (n, Money(minor, currency).amount) for currency, (n, minor) in mine.items()}
