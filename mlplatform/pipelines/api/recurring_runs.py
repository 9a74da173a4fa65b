"""Recurring runs (v2beta1 `recurringruns`): a run template with a cron or periodic trigger, max
concurrency, catchup, enable/disable. The engine's scheduler fires them (engine/schedule.py)."""

from __future__ import annotations

import time

from fastapi import APIRouter, Body, Depends, Query

from mlplatform.auth import PIPELINE_RUNS
from mlplatform.openapi import errors
from mlplatform.pipelines.api import shapes
from mlplatform.pipelines.api.common import AUTH_STATUSES, PREFIX, Services, list_query
from mlplatform.pipelines.api.runs import new_run
from mlplatform.pipelines.engine.controller import RUN_TEMPLATE_FIELDS
from mlplatform.pipelines.engine.schedule import next_fire, parsed_trigger
from mlplatform.pipelines.errors import InvalidInput
from mlplatform.pipelines.store import RecurringRun


def router(services: Services) -> APIRouter:
    api = APIRouter(prefix=f"{PREFIX}/recurringruns", responses=errors(400, 404, 413, *AUTH_STATUSES),
                    dependencies=services.guard(PIPELINE_RUNS))
    store = services.store

    @api.post("")
    def create(body: dict = Body(...)):  # noqa: B008 - FastAPI's way
        template = new_run(services, body, body.get("experiment_id") or "")
        now = time.time()
        trigger = parsed_trigger(body.get("trigger"), now)
        enabled = (body.get("mode") or "ENABLE") != "DISABLE"
        max_concurrency = _max_concurrency(body.get("max_concurrency"))
        recurring = RecurringRun(
            **{field: getattr(template, field) for field in _TEMPLATE_FIELDS},
            trigger=trigger,
            max_concurrency=max_concurrency,
            no_catchup=bool(body.get("no_catchup")),
            enabled=enabled,
            next_fire_at=next_fire(trigger, _first_after(trigger, now)),
        )
        store.add_recurring_run(recurring)
        return shapes.recurring_run(recurring)

    @api.get("")
    def list_(query=Depends(list_query), experiment_id: str = "", namespace: str = ""):
        page = store.list_recurring_runs(query, experiment_id, namespace)
        return {
            "recurringRuns": [shapes.recurring_run(item) for item in page.items],
            "total_size": page.total_size,
            "next_page_token": page.next_page_token,
        }

    @api.get("/{recurring_run_id}")
    def get(recurring_run_id: str):
        return shapes.recurring_run(store.get_recurring_run(recurring_run_id))

    @api.post("/{recurring_run_id}:enable")
    def enable(recurring_run_id: str):
        recurring = store.get_recurring_run(recurring_run_id)
        store.update_recurring_run(
            recurring_run_id, enabled=True, next_fire_at=next_fire(recurring.trigger, time.time())
        )
        return {}

    @api.post("/{recurring_run_id}:disable")
    def disable(recurring_run_id: str):
        store.update_recurring_run(recurring_run_id, enabled=False)
        return {}

    @api.delete("/{recurring_run_id}")
    def delete(recurring_run_id: str, experiment_id: str = Query("")):
        store.delete_recurring_run(recurring_run_id)
        return {}

    return api


def _max_concurrency(value) -> int:
    try:
        count = int(value or 1)
    except (TypeError, ValueError):
        count = 0
    if not 1 <= count <= 10:
        raise InvalidInput(f"max_concurrency must be a whole number from 1 to 10, not {value!r}")
    return count


def _first_after(trigger: dict, now: float) -> float:
    """Fire from the start time on, even when it is past (the missed times are caught up, or with
    no_catchup skipped after the first), else from now."""
    start = next(iter(trigger.values())).get("start_time")
    return min(now, start - 1) if start else now


_TEMPLATE_FIELDS = ("display_name", *RUN_TEMPLATE_FIELDS)
