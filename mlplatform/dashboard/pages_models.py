"""Models: the registry's models, their versions and aliases, and the version each serving track serves."""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from mlplatform.dashboard.backends import BackendProblem
from mlplatform.dashboard.rollouts import rollout_status
from mlplatform.dashboard.viewer import model_server, registry, render, settings_of

MLFLOW = "/api/2.0/mlflow"
MODEL_URI = re.compile(r"models:/(?P<name>[^/@]+)(?:/(?P<version>\d+)|@(?P<alias>[\w-]+))$")


def router() -> APIRouter:
    api = APIRouter()

    @api.get("/models", response_class=HTMLResponse)
    def models(request: Request):
        backend = registry(request)
        found = backend.get(f"{MLFLOW}/registered-models/search", params={"max_results": 200}).get(
            "registered_models") or []
        status, problem = serving_status(request)
        shown = []
        for model in found:
            versions = backend.get(f"{MLFLOW}/model-versions/search",
                                   params={"filter": f"name='{model['name']}'", "max_results": 200})
            aliases = {a["alias"]: a["version"] for a in model.get("aliases") or []}
            rows = sorted(versions.get("model_versions") or [], key=lambda v: -int(v["version"]))
            shown.append({"name": model["name"], "description": model.get("description", ""), "aliases": aliases,
                          "versions": [version_row(v, aliases, status) for v in rows]})
        loaded, loaded_problem = loaded_models(request)
        return render(request, "models.html", title="Models", models=shown, serving_problem=problem,
                      loaded=loaded, loaded_problem=loaded_problem)

    return api


def loaded_models(request: Request) -> tuple[list[dict], str | None]:
    """What the model server's routed entry point has loaded (the Open Inference Protocol's repository index)."""
    if not settings_of(request).model_server_url:
        return [], None
    try:
        answer = model_server(request).post("/v2/repository/index", {"ready": False})
    except BackendProblem as problem:
        return [], str(problem)
    return answer if isinstance(answer, list) else [], None


def serving_status(request: Request) -> tuple[dict | None, str | None]:
    settings = settings_of(request)
    if settings.state_dir is None:
        return None, "which version each track serves needs the release state (start the dashboard with --endpoints)"
    try:
        return rollout_status(settings.state_dir), None
    except Exception as error:  # noqa: BLE001 - shown on the page, the registry part still renders
        return None, f"serving state unavailable: {error}"


def version_row(version: dict, aliases: dict, status: dict | None) -> dict:
    tags = {tag["key"]: tag["value"] for tag in version.get("tags") or []}
    return {"version": version["version"], "status": version.get("status", ""),
            "source": version.get("source", ""), "run_id": version.get("run_id", ""),
            "aliases": [alias for alias, number in aliases.items() if number == version["version"]],
            "tracks": tracks_serving(version["name"], version["version"], aliases, status),
            "analysis": tags.get("mlplatform.canary.analysis", "")}


def tracks_serving(name: str, number: str, aliases: dict, status: dict | None) -> list[str]:
    """'stable' and/or 'canary' when that track serves models:/name/number (directly or by alias)."""
    if status is None:
        return []
    tracks = []
    for track, models in (("stable", status["stable"]["models"]), ("canary", status["canary"]["models"])):
        if track == "canary" and not status["canary"]["enabled"]:
            continue
        for model in models:
            match = MODEL_URI.match(str(model.get("uri", "")))
            if match and match["name"] == name and (match["version"] or aliases.get(match["alias"])) == number:
                tracks.append(track)
    return tracks
