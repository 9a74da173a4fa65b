"""Assembles the tuning service: store, runner, trial backends, engine, metrics and the HTTP API."""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from mlplatform.auth.token_file import TokenFile
from mlplatform.errors import ConfigError
from mlplatform.inputs import BodyLimit
from mlplatform.kubeapi import add_resource_routes
from mlplatform.runners import make_runner
from mlplatform.service import add_operational_routes, serving_lifespan
from mlplatform.tuning.api import add_routes
from mlplatform.tuning.dashboard_api import add_dashboard_routes
from mlplatform.tuning.engine import Engine
from mlplatform.tuning.monitoring import TuningMetrics
from mlplatform.tuning.resources import tuning_resources
from mlplatform.tuning.store import OutputRetention, Store
from mlplatform.tuning.trials import TUNING_URL_VARIABLE, JobTrials

DEFAULT_PORT = 8585
RELEASE_VARIABLE = "MLP_RELEASE_NAME"


def public_url(host: str, port: int) -> str:
    """Where trials reach the service (report_metrics): $MLP_TUNING_URL (a cluster sets its Service URL),
    else host:port."""
    if os.environ.get(TUNING_URL_VARIABLE):
        return os.environ[TUNING_URL_VARIABLE].rstrip("/")
    reachable = "127.0.0.1" if host in ("", "0.0.0.0", "::") else host
    return f"http://{reachable}:{port}"


def build_app(
    *, db: str, runner: str, state_dir: Path, max_parallel: int, pipelines_url: str | None, tuning_url: str,
    training_url: str | None = None,
    retention: OutputRetention = OutputRetention(), max_body_bytes: int = 1024 * 1024,
    watch_namespaces: str | None = None, auth=None, pipelines_token: TokenFile | None = None,
) -> FastAPI:
    """`auth` (mlplatform.auth.TokenAuth or KubernetesAuth): multi-user mode; None: every request is served."""
    store = Store(db)
    task_runner = make_runner(runner, state_dir=state_dir, max_parallel=max_parallel)
    backends = {"Job": JobTrials(task_runner, store, tuning_url, profiles_release=_profiles_release(runner, auth))}
    if pipelines_url:
        from mlplatform.tuning.pipeline_trials import PipelineTrials

        backends["PipelineRun"] = PipelineTrials(pipelines_url, store, pipelines_token)
    backends.update(_training_backends(runner, training_url, store, tuning_url))
    registry = CollectorRegistry()
    engine = Engine(store, backends, TuningMetrics(registry, store), retention)

    controller = _controller(engine, watch_namespaces)

    app = FastAPI(title="mlplatform tuning service",
                  lifespan=serving_lifespan(engine, controller, closing=(task_runner,)))
    add_operational_routes(app, ready=engine.not_ready, registry=registry)
    access = _access(app, auth, engine)
    add_routes(app, engine, access)
    add_dashboard_routes(app, engine, access)
    add_resource_routes(app, tuning_resources(engine), access=access)  # kubeflow.org/v1beta1: Katib's SDK, kubectl
    if training_url:  # local mode: the kubeconfig's one server also answers the training SDK's paths
        from mlplatform.kubeapi.passthrough import add_passthrough
        from mlplatform.training.spec import KUBE_API_PATHS

        add_passthrough(app, training_url, KUBE_API_PATHS)
    app.add_middleware(BodyLimit, default=max_body_bytes)
    return app


def _training_backends(runner: str, training_url: str | None, store: Store, tuning_url: str) -> dict:
    """PyTorchJob and TFJob trials: on the training operator at `training_url` (local mode), or in the
    cluster the Kubernetes runner works in."""
    from mlplatform.kube import api_client, api_client_for_url
    from mlplatform.tuning.spec import TRAINING_KINDS
    from mlplatform.tuning.training_trials import TrainingJobTrials

    if training_url:
        backend = TrainingJobTrials(api_client_for_url(training_url), store, tuning_url)
    elif runner == "kubernetes":
        backend = TrainingJobTrials(api_client(), store, tuning_url, own_by_trial=True)
    else:
        return {}
    return dict.fromkeys(TRAINING_KINDS, backend)


def _profiles_release(runner: str, auth) -> str | None:
    """Multi-user mode with the Kubernetes runner: trials run in their experiment's namespace as its profile's
    runner ServiceAccount, `<release>-<namespace>-runner`; the release is $MLP_RELEASE_NAME (the chart sets it)."""
    if auth is None or runner != "kubernetes":
        return None
    release = os.environ.get(RELEASE_VARIABLE, "")
    if not release:
        raise ConfigError(f"--auth-mode with --runner kubernetes runs each trial in its experiment's namespace as "
                          f"<release>-<namespace>-runner (values.profiles): set {RELEASE_VARIABLE}, as the chart does")
    return release


def _access(app: FastAPI, auth, engine: Engine):
    if auth is None:
        return None
    from mlplatform.tuning.access import TuningAccess, add_auth_error_handler

    add_auth_error_handler(app)
    return TuningAccess(auth, engine)


def _controller(engine: Engine, watch_namespaces: str | None):
    """Cluster mode (`--watch-namespaces`): the controller of Experiment objects in those namespaces."""
    if not watch_namespaces:
        return None
    from mlplatform.kube import api_client
    from mlplatform.kubeapi.controller import watched_namespaces
    from mlplatform.tuning.controller import ExperimentController

    return ExperimentController(engine, api_client(), watched_namespaces(watch_namespaces))
