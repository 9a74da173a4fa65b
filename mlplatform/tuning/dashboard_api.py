"""Dashboard data: an experiment's every trial, its parameters and its metric history, in one call.

    GET /api/v1/experiments/{name}/trial-metrics

    {"experiment": "mnist", "objective": {"type": "maximize", "metric": "accuracy", "goal": 0.99},
     "parameters": ["lr", "momentum"],
     "trials": [{"name": "mnist-x7k2", "state": "Succeeded", "parameters": {"lr": "0.01", ...},
                 "objective": 0.97,
                 "metrics": {"accuracy": [{"step": 0, "value": 0.9, "timestamp": "..."}, ...], ...}}, ...]}

`step` counts the values of one metric in the order they were reported (the steps early stopping
judges); `objective` is the trial's value by the objective's metric strategy, null until it has one.
The per-trial output is at /api/v1/experiments/{name}/trials/{trial}/logs.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from mlplatform.openapi import errors
from mlplatform.tuning.engine import Engine


def add_dashboard_routes(app: FastAPI, engine: Engine, access=None) -> None:
    @app.get("/api/v1/experiments/{name}/trial-metrics", responses=errors(404, 409),
             dependencies=access.dependencies if access else None)
    async def trial_metrics(name: str, namespace: str | None = None):
        return await run_in_threadpool(_trial_metrics, engine, name, namespace)


def _trial_metrics(engine: Engine, name: str, namespace: str | None) -> dict:
    key = engine.resolve(name, namespace)  # NotFound: 404 through the API's error handler
    _, experiment = engine.experiment(key)
    objective = experiment.objective
    return {
        "experiment": name,
        "objective": {"type": objective.type, "metric": objective.metric, "goal": objective.goal,
                      "additionalMetrics": list(objective.additional_metrics)},
        "parameters": [parameter.name for parameter in experiment.parameters],
        "trials": [_trial(engine, experiment, trial) for trial in engine.store.trials(key)],
    }


def _trial(engine: Engine, experiment, trial) -> dict:
    metrics: dict[str, list[dict]] = {metric: [] for metric in experiment.objective.metric_names}
    for entry in engine.metric_history(experiment, trial):
        if entry.name in metrics and entry.number is not None:
            series = metrics[entry.name]
            series.append({"step": len(series), "value": entry.number, "timestamp": entry.timestamp})
    return {
        "name": trial.name,
        "state": trial.state.value,
        "parameters": trial.parameters(),
        "objective": trial.objective,
        "metrics": metrics,
    }
