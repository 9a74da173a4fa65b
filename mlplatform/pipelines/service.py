"""Wiring: settings -> store, runner, engine, API. `mlp serve pipelines` (cli.py) serves the result."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mlplatform.dashboard.embed import mount_dashboard
from mlplatform.db import make_engine
from mlplatform.errors import ConfigError
from mlplatform.pipelines.api.access import PipelineAccess
from mlplatform.pipelines.api.app import create_app
from mlplatform.pipelines.api.common import Services
from mlplatform.pipelines.artifacts import ArtifactRoot
from mlplatform.pipelines.engine.controller import Engine
from mlplatform.pipelines.metrics import Metrics
from mlplatform.pipelines.store import Store
from mlplatform.runners import make_runner
from mlplatform.service import add_operational_routes, serving_lifespan


@dataclass
class Settings:
    db: str
    runner: str
    state_dir: Path
    max_parallel: int
    artifact_root: str
    max_body_bytes: int = 1024 * 1024
    max_upload_bytes: int = 32 * 1024 * 1024
    auth: object = None  # mlplatform.auth.TokenAuth or KubernetesAuth: multi-user mode


def build_app(settings: Settings):
    if settings.runner == "kubernetes" and not settings.artifact_root.startswith("s3://"):
        raise ConfigError("--runner kubernetes needs --artifact-root s3://bucket/prefix (tasks run in pods)")
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    store = Store(make_engine(settings.db))
    runner = make_runner(
        settings.runner, state_dir=settings.state_dir / "tasks", max_parallel=settings.max_parallel
    )
    root = ArtifactRoot(settings.artifact_root)
    engine = Engine(store, runner, root, settings.state_dir)

    access = PipelineAccess(settings.auth, store) if settings.auth is not None else None
    app = create_app(Services(store, engine, access), settings.max_body_bytes, settings.max_upload_bytes)
    app.router.lifespan_context = serving_lifespan(engine)
    registry = add_operational_routes(app, ready=engine.ready)
    engine.metrics = Metrics(registry, store, runner)
    mount_dashboard(app)
    return app
