"""Applying model-server values to local mode: what `helm upgrade` does to the model server in a cluster.

    apply_model_server_values(state_dir, values)

`values` are the release values (the `modelServer` shape of contracts §6). For each track it fetches
the models whose source changed (an alias that moved counts) into that MLServer's repository and
loads them through MLServer's repository API; then it sets the nginx weight; then it unloads the
models a track no longer serves; last it records the values in `<state-dir>/values.yaml`. The order
keeps traffic flowing: a track gets its new models before its weight, and loses old ones after.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from mlplatform.endpoints import Endpoints
from mlplatform.errors import ConfigError, DependencyError
from mlplatform.local.components import nginx, s3
from mlplatform.local.components.mlserver import TRACKS, process_name
from mlplatform.local.state import StateDir
from mlplatform.routers.base import RouterContext, check_weight
from mlplatform.serving.fetch import DEFAULT_IMPLEMENTATION, ModelSource, SourceAccess, fetch, resolve
from mlplatform.serving.repository import ModelRepository

Report = Callable[[str], None]


@dataclass(frozen=True)
class ServedModel:
    name: str
    uri: str
    implementation: str = DEFAULT_IMPLEMENTATION


@dataclass(frozen=True)
class ModelServerValues:
    """The part of `modelServer` local mode acts on, validated as the chart validates it."""

    models: tuple[ServedModel, ...]
    canary_enabled: bool
    canary_weight: int
    canary_models: tuple[ServedModel, ...]

    @classmethod
    def from_values(cls, values: dict) -> ModelServerValues:
        server = values.get("modelServer") or {}
        canary = server.get("canary") or {}
        enabled = bool(canary.get("enabled", False))
        weight = canary.get("weight", 0)
        try:
            check_weight(weight)
        except ConfigError as error:
            raise ConfigError(f"modelServer.canary.weight: {error}") from None
        if weight > 0 and not enabled:
            raise ConfigError("modelServer.canary.weight is above 0 but modelServer.canary.enabled is false")
        return cls(models=_models(server.get("models"), "modelServer.models"), canary_enabled=enabled,
                   canary_weight=weight, canary_models=_models(canary.get("models"), "modelServer.canary.models"))

    def track_models(self, track: str) -> tuple[ServedModel, ...]:
        """What a track serves; the canary serves the stable models when it names none (as the chart does)."""
        if track == "stable":
            return self.models
        if not self.canary_enabled:
            return ()
        return self.canary_models or self.models

    @property
    def weight(self) -> int:
        return self.canary_weight if self.canary_enabled else 0


def _models(entries, key: str) -> tuple[ServedModel, ...]:
    if entries is None:
        return ()
    if not isinstance(entries, list):
        raise ConfigError(f"{key} must be a list of models")
    models, names = [], set()
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict) or not entry.get("name") or not entry.get("uri"):
            raise ConfigError(f"{key}[{index}] needs a name and a uri")
        if entry["name"] in names:
            raise ConfigError(f"{key}: model name {entry['name']!r} appears twice")
        names.add(entry["name"])
        models.append(ServedModel(name=str(entry["name"]), uri=str(entry["uri"]),
                                  implementation=str(entry.get("implementation") or DEFAULT_IMPLEMENTATION)))
    return tuple(models)


@dataclass(frozen=True)
class AppliedModel:
    """A model a track serves, as applied: the URI, what it resolved to and the runtime."""

    uri: str
    location: str
    version: str | None
    implementation: str


class Track:
    """One MLServer track: its repository directory, its repository API and what it serves now."""

    def __init__(self, state: StateDir, endpoints: Endpoints, track: str):
        self.name = track
        self.process = process_name(track)
        self.directory = state.model_repository(track)
        self.record_file = state.workdir(self.process) / "applied.json"
        self.url = endpoints.url(self.process) if endpoints.has(self.process) else None

    def applied(self) -> dict[str, AppliedModel]:
        if not self.record_file.exists():
            return {}
        return {name: AppliedModel(**entry) for name, entry in json.loads(self.record_file.read_text()).items()}

    def record(self, applied: dict[str, AppliedModel]) -> None:
        self.record_file.write_text(json.dumps({name: asdict(model) for name, model in applied.items()}, indent=2))

    def repository(self) -> ModelRepository:
        if self.url is None:
            raise DependencyError(f"local mode runs no {self.process}, so it cannot serve models")
        return ModelRepository(self.url)


def apply_model_server_values(state_dir: Path | str, values: dict, report: Report | None = None) -> ModelServerValues:
    """Make local mode serve `values` (see the module docstring); returns the values as applied."""
    report = report or (lambda message: None)
    wanted = ModelServerValues.from_values(values)
    state = StateDir.at(state_dir)
    endpoints = state.read_endpoints()
    access = source_access(endpoints)
    tracks = [Track(state, endpoints, track) for track in TRACKS]
    for track in tracks:
        _load_changed(track, wanted.track_models(track.name), access, report)
    _route(state, endpoints, values, wanted.weight, report)
    for track in tracks:
        _unload_removed(track, {model.name for model in wanted.track_models(track.name)}, report)
    state.write_values(values)
    return wanted


def source_access(endpoints: Endpoints) -> SourceAccess:
    """Local mode's MLflow and moto, for resolving and fetching model URIs."""
    return SourceAccess(
        tracking_uri=endpoints.url("model-registry") if endpoints.has("model-registry") else None,
        s3_endpoint=endpoints.url(s3.NAME) if endpoints.has(s3.NAME) else None,
        s3_credentials=endpoints.extra.get("s3"),
    )


def _load_changed(track: Track, models: tuple[ServedModel, ...], access: SourceAccess, report: Report) -> None:
    applied = track.applied()
    for model in models:
        if model.uri.startswith("models:/") and access.tracking_uri is None:
            raise ConfigError(f"{model.uri}: local mode runs no model registry to resolve it")
        source = resolve(model.uri, access)
        current = AppliedModel(uri=model.uri, location=source.location, version=source.version,
                               implementation=model.implementation)
        if applied.get(model.name) == current:
            continue
        _fetch_and_load(track, model, source, access, report)
        applied[model.name] = current
        track.record(applied)


def _fetch_and_load(track: Track, model: ServedModel, source: ModelSource, access: SourceAccess,
                    report: Report) -> None:
    resolved = f" (version {source.version})" if source.version else ""
    report(f"{track.process}: loading {model.name} from {model.uri}{resolved}")
    repository = track.repository()
    fetch(source, track.directory / model.name, name=model.name, implementation=model.implementation, access=access)
    repository.load(model.name)


def _route(state: StateDir, endpoints: Endpoints, values: dict, weight: int, report: Report) -> None:
    from mlplatform.routers.local_nginx import LocalNginxRouter

    if not endpoints.has(nginx.NAME):
        report(f"model-server: no nginx in this platform, canary weight {weight} not routed")
        return
    router = LocalNginxRouter(values.get("modelServer") or {}, RouterContext(release="local", state_dir=state.root))
    if router.get_weight() != weight:
        report(f"model-server: routing {weight}% to the canary")
        router.set_weight(weight)


def _unload_removed(track: Track, keep: set[str], report: Report) -> None:
    applied = track.applied()
    for name in sorted(set(applied) - keep):
        report(f"{track.process}: unloading {name}")
        track.repository().unload(name)
        shutil.rmtree(track.directory / name, ignore_errors=True)
        del applied[name]
        track.record(applied)
