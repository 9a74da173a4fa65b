"""Assembles the training operator: store, replica engine, reconcile loop, metrics and the HTTP doors."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from mlplatform.inputs import BodyLimit
from mlplatform.kubeapi import add_resource_routes
from mlplatform.service import add_operational_routes, serving_lifespan
from mlplatform.training.engine import Engine, ReplicaEngine
from mlplatform.training.monitoring import register_metrics
from mlplatform.training.resources import training_resources
from mlplatform.training.store import Store

DEFAULT_PORT = 8686


def build_app(
    *, db: str, runner: str, state_dir: Path, max_parallel: int, max_body_bytes: int = 1024 * 1024,
    watch_namespaces: str | None = None, auth=None, gang_timeout: int = 300,
) -> FastAPI:
    """`auth` (mlplatform.auth.TokenAuth or KubernetesAuth): multi-user mode; None: every request is served."""
    store = Store(db)
    replicas = _replica_engine(runner, state_dir, max_parallel, gang_timeout, owned=bool(watch_namespaces))
    # Locally a pass reads files; in a cluster it lists each job's Jobs and pods from the API server.
    engine = Engine(store, replicas, interval=0.2 if runner == "local" else 1.0)
    registry = CollectorRegistry()
    register_metrics(registry, store)
    controller = _controller(engine, watch_namespaces)

    app = FastAPI(title="mlplatform training operator", lifespan=serving_lifespan(engine, controller))
    add_operational_routes(app, ready=engine.not_ready, registry=registry)
    access = _access(app, auth)
    add_resource_routes(app, training_resources(engine), access=access)   # kubeflow.org/v1: TrainingClient, kubectl
    if runner == "local":
        from mlplatform.training.pods import LocalPods, add_pod_routes

        add_pod_routes(app, LocalPods(engine, replicas), access)
    app.add_middleware(BodyLimit, default=max_body_bytes)
    return app


def _replica_engine(runner: str, state_dir: Path, max_parallel: int, gang_timeout: int, owned: bool) -> ReplicaEngine:
    """`owned`: the jobs are objects in the cluster (controller mode), so their replicas get ownerReferences."""
    if runner == "local":
        from mlplatform.training.local import LocalReplicas

        return LocalReplicas(state_dir, max_parallel)
    from mlplatform.training.kubernetes import KubernetesReplicas

    return KubernetesReplicas(gang_timeout=gang_timeout, owner_references=owned)


def _access(app: FastAPI, auth):
    if auth is None:
        return None
    from mlplatform.training.access import TrainingAccess, add_auth_error_handler

    add_auth_error_handler(app)
    return TrainingAccess(auth)


def _controller(engine: Engine, watch_namespaces: str | None):
    """Cluster mode (`--watch-namespaces`): the controller of PyTorchJob and TFJob objects in those namespaces."""
    if not watch_namespaces:
        return None
    from mlplatform.kube import api_client
    from mlplatform.kubeapi.controller import watched_namespaces
    from mlplatform.training.controller import TrainingJobController

    return TrainingJobController(engine, api_client(), watched_namespaces(watch_namespaces))
