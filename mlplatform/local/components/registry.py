"""The model registry: an MLflow tracking server, SQLite in its work dir, artifacts proxied to S3."""

from __future__ import annotations

import importlib.util

from mlplatform.local.components.base import HOST, Launch, PlannedProcess, ScrapeTarget, local_url, new_port
from mlplatform.local.components.s3 import MLFLOW_BUCKET
from mlplatform.local.supervisor import ProcessSpec
from mlplatform.tools import require_binary

NAME = "model-registry"


def plan(launch: Launch) -> PlannedProcess:
    workdir = launch.state.workdir(NAME)
    port = new_port()
    url = local_url(port)
    command = [str(require_binary("mlflow")), "server", "--host", HOST, "--port", str(port),
               "--backend-store-uri", f"sqlite:///{workdir / 'mlflow.db'}",
               "--artifacts-destination", f"s3://{MLFLOW_BUCKET}/", "--serve-artifacts", "--workers", "1"]
    metrics = None
    # MLflow's /metrics needs prometheus-flask-exporter, an optional package.
    if importlib.util.find_spec("prometheus_flask_exporter") is not None:
        command += ["--expose-prometheus", str(workdir / "metrics")]
        metrics = ScrapeTarget(f"{HOST}:{port}", "/metrics", {"component": NAME})
    # The job runner serves MLflow's GenAI jobs, which the platform does not use: two processes less.
    env = {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    spec = ProcessSpec(name=NAME, command=command, health_url=f"{url}/health", cwd=workdir, env=env)
    return PlannedProcess(spec=spec, url=url, metrics=metrics)
