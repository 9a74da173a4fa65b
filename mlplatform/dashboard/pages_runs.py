"""Runs (list, run page with its DAG, task details, retry, terminate, compare) and pipelines with their graphs."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from mlplatform.dashboard import previews
from mlplatform.dashboard.backends import BackendProblem
from mlplatform.dashboard.graph import count_states, spec_graph
from mlplatform.dashboard.viewer import pipelines, render, script_json

API = "/apis/v2beta1"
SORTS = {"newest": "created_at desc", "oldest": "created_at asc", "name": "display_name asc",
         "name-desc": "display_name desc"}
STATES = ("PENDING", "RUNNING", "SUCCEEDED", "SKIPPED", "FAILED", "CANCELING", "CANCELED", "PAUSED")
FINISHED = {"SUCCEEDED", "SKIPPED", "FAILED", "CANCELED"}
COMPARE_RANGE = (2, 10)


class BadInput(BackendProblem):
    def __init__(self, message: str):
        super().__init__(message, 400)


def router() -> APIRouter:
    api = APIRouter()

    @api.get("/runs", response_class=HTMLResponse)
    def runs(request: Request, state: str = "", name: str = "", experiment_id: str = "", namespace: str = "",
             sort: str = "newest", page_size: int = 50, page_token: str = ""):
        params = run_list_params(state, name, sort, page_size, page_token, experiment_id)
        if namespace:   # multi-user mode lists one namespace at a time, as KFP's UI does
            params["namespace"] = namespace
        page = pipelines(request).get(f"{API}/runs", params=params)
        return render(request, "runs.html", title="Runs", runs=page.get("runs") or [],
                      total=page.get("total_size", 0), next_page_token=page.get("next_page_token") or "",
                      states=STATES, sorts=SORTS, chosen={"state": state, "name": name, "sort": sort,
                                                          "page_size": page_size, "experiment_id": experiment_id,
                                                          "namespace": namespace})

    @api.get("/runs/{run_id}", response_class=HTMLResponse)
    def run_page(request: Request, run_id: str):
        run, graph = run_and_graph(request, run_id)
        return render(request, "run.html", title=f"Run {run['display_name']}", run=run, graph=script_json(graph),
                      counts=count_states(graph), finished=run["state"] in FINISHED)

    @api.get("/runs/{run_id}/graph.json")
    def run_graph(request: Request, run_id: str):
        run, graph = run_and_graph(request, run_id)
        return JSONResponse({"state": run["state"], "finished": run["state"] in FINISHED, "graph": graph,
                             "counts": count_states(graph)})

    @api.get("/runs/{run_id}/tasks/{task_id}", response_class=HTMLResponse)
    def task_panel(request: Request, run_id: str, task_id: str):
        backend = pipelines(request)
        run = backend.get(f"{API}/runs/{run_id}")
        task = next((t for t in run.get("run_details", {}).get("task_details", []) if t["task_id"] == task_id), None)
        if task is None:
            raise BackendProblem(f"run {run_id} has no task {task_id}", 404)
        artifacts = [item for item in backend.get(f"{API}/runs/{run_id}/artifacts").get("artifacts", [])
                     if item["task_id"] == task_id]
        log = backend.text(f"{API}/runs/{run_id}/tasks/{task_id}/logs") if task["kind"] == "executor" else ""
        shown = [{**item, "preview": previews.preview(item, run_id, backend)} for item in artifacts]
        return render(request, "task.html", run=run, task=task, artifacts=shown, log=log)

    @api.post("/runs/{run_id}/{action}")
    def run_action(request: Request, run_id: str, action: str):
        if action not in ("retry", "terminate"):
            raise BackendProblem(f"unknown run action {action!r}: use retry or terminate", 404)
        pipelines(request).post(f"{API}/runs/{run_id}:{action}")
        return RedirectResponse(f"{request.scope.get('root_path', '')}/runs/{run_id}", status_code=303)

    @api.get("/compare", response_class=HTMLResponse)
    def compare(request: Request, run: Annotated[list[str] | None, Query()] = None):
        chosen = list(dict.fromkeys(run or []))
        if not COMPARE_RANGE[0] <= len(chosen) <= COMPARE_RANGE[1]:
            raise BadInput(f"compare takes {COMPARE_RANGE[0]} to {COMPARE_RANGE[1]} different runs "
                           f"(?run=ID&run=ID...); got {len(chosen)}")
        backend = pipelines(request)
        runs_ = [backend.get(f"{API}/runs/{run_id}") for run_id in chosen]
        metrics = [run_metrics(backend.get(f"{API}/runs/{run_id}/artifacts")) for run_id in chosen]
        parameters = [r.get("runtime_config", {}).get("parameters") or {} for r in runs_]
        return render(request, "compare.html", title="Compare runs", runs=runs_,
                      parameter_rows=table_rows(parameters), metric_rows=table_rows(metrics))

    @api.get("/pipelines", response_class=HTMLResponse)
    def pipeline_list(request: Request):
        page = pipelines(request).get(f"{API}/pipelines", params={"page_size": 200, "sort_by": "created_at desc"})
        return render(request, "pipelines.html", title="Pipelines", pipelines=page.get("pipelines") or [])

    @api.get("/pipelines/{pipeline_id}", response_class=HTMLResponse)
    def pipeline_page(request: Request, pipeline_id: str, version: str = ""):
        backend = pipelines(request)
        pipeline = backend.get(f"{API}/pipelines/{pipeline_id}")
        versions = backend.get(f"{API}/pipelines/{pipeline_id}/versions",
                               params={"page_size": 200, "sort_by": "created_at desc"}).get("pipeline_versions") or []
        if not versions:
            raise BackendProblem(f"pipeline {pipeline['display_name']} has no versions", 404)
        chosen = next((v for v in versions if v["pipeline_version_id"] == version), None) if version else versions[0]
        if chosen is None:
            raise BackendProblem(f"pipeline {pipeline['display_name']} has no version {version}", 404)
        spec = backend.get(f"{API}/pipelines/{pipeline_id}/versions/{chosen['pipeline_version_id']}")
        graph = spec_graph(spec.get("pipeline_spec") or {})
        return render(request, "pipeline.html", title=f"Pipeline {pipeline['display_name']}", pipeline=pipeline,
                      versions=versions, version=chosen, graph=script_json(graph))

    return api


def run_list_params(state: str, name: str, sort: str, page_size: int, page_token: str, experiment_id: str) -> dict:
    """The KFP list query for the runs page's filters; a bad one is a 400 naming it."""
    if state and state not in STATES:
        raise BadInput(f"state must be one of {', '.join(STATES)}; got {state!r}")
    if sort not in SORTS:
        raise BadInput(f"sort must be one of {', '.join(SORTS)}; got {sort!r}")
    if not 1 <= page_size <= 200:
        raise BadInput(f"page_size must be 1 to 200; got {page_size}")
    predicates = []
    if state:
        predicates.append({"key": "state", "operation": "EQUALS", "string_value": state})
    if name:
        predicates.append({"key": "display_name", "operation": "IS_SUBSTRING", "string_value": name})
    params = {"page_size": page_size, "sort_by": SORTS[sort]}
    if predicates:
        params["filter"] = json.dumps({"predicates": predicates})
    if page_token:
        params["page_token"] = page_token
    if experiment_id:
        params["experiment_id"] = experiment_id
    return params


def run_and_graph(request: Request, run_id: str) -> tuple[dict, dict]:
    backend = pipelines(request)
    run = backend.get(f"{API}/runs/{run_id}")
    spec = run.get("pipeline_spec")
    if not spec and run.get("pipeline_version_reference"):
        reference = run["pipeline_version_reference"]
        spec = backend.get(f"{API}/pipelines/{reference['pipeline_id']}/versions/"
                           f"{reference['pipeline_version_id']}").get("pipeline_spec")
    return run, spec_graph(spec or {}, run.get("run_details", {}).get("task_details", []))


def run_metrics(artifacts: dict) -> dict:
    """`task.metric` -> value, from a run's Metrics artifacts."""
    found = {}
    for item in artifacts.get("artifacts", []):
        if item["type"] == "system.Metrics":
            for key, value in item.get("metadata", {}).items():
                if key != "display_name":
                    found[f"{item['task_name']}.{key}"] = value
    return found


def table_rows(columns: list[dict]) -> list[tuple[str, list, bool]]:
    """(key, the value in each column, whether they differ), one row per key any column has."""
    keys = sorted({key for column in columns for key in column})
    rows = []
    for key in keys:
        values = [column.get(key, "") for column in columns]
        rows.append((key, values, len({json.dumps(v, sort_keys=True) for v in values}) > 1))
    return rows
