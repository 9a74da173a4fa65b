"""Tuning experiments: the list, and an experiment's status, optimal trial, trial table and plots."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from mlplatform.dashboard.viewer import render, script_json, tuning

API = "/api/v1/experiments"


def router() -> APIRouter:
    api = APIRouter()

    @api.get("/experiments", response_class=HTMLResponse)
    def experiments(request: Request):
        items = tuning(request).get(API).get("items") or []
        return render(request, "experiments.html", title="Experiments",
                      experiments=[summary(item) for item in items])

    @api.get("/experiments/{name}", response_class=HTMLResponse)
    def experiment(request: Request, name: str, namespace: str | None = None):
        params = {"namespace": namespace} if namespace else None
        backend = tuning(request)
        manifest = backend.get(f"{API}/{name}", params=params)
        metrics = backend.get(f"{API}/{name}/trial-metrics", params=params)
        return render(request, "experiment.html", title=f"Experiment {name}", experiment=summary(manifest),
                      objective=metrics["objective"], parameters=metrics["parameters"], trials=metrics["trials"],
                      plot=script_json(plot_data(metrics)))

    return api


def phase(status: dict) -> str:
    """The experiment's state: its last condition that holds (Created, Running, Succeeded, Failed...)."""
    holding = [c["type"] for c in status.get("conditions", []) if str(c.get("status")).lower() == "true"]
    return holding[-1] if holding else "Pending"


def summary(manifest: dict) -> dict:
    status = manifest.get("status") or {}
    spec = manifest.get("spec") or {}
    optimal = status.get("currentOptimalTrial") or {}
    return {
        "name": manifest["metadata"]["name"],
        "namespace": manifest["metadata"].get("namespace", ""),
        "created": manifest["metadata"].get("creationTimestamp", ""),
        "phase": phase(status),
        "algorithm": spec.get("algorithm", {}).get("algorithmName", ""),
        "objective": spec.get("objective", {}),
        "counts": {key: status.get(key, 0) for key in ("trials", "trialsSucceeded", "trialsRunning",
                                                       "trialsFailed", "trialsEarlyStopped")},
        "optimal_trial": optimal.get("bestTrialName", ""),
        "optimal_parameters": optimal.get("parameterAssignments") or [],
        "optimal_metrics": (optimal.get("observation") or {}).get("metrics") or [],
    }


def plot_data(metrics: dict) -> dict:
    """What the two charts draw: the objective per trial (in creation order) and each trial's parameters."""
    return {"metric": metrics["objective"]["metric"], "goal": metrics["objective"]["type"],
            "parameters": metrics["parameters"],
            "trials": [{"name": t["name"], "state": t["state"], "objective": t["objective"],
                        "parameters": t["parameters"]} for t in metrics["trials"]]}
