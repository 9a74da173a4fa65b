"""Our own services with the local runner: the pipeline controller and the tuning service."""

from __future__ import annotations

import importlib.util

from mlplatform.local.components.base import (
    HOST,
    Launch,
    PlannedProcess,
    ScrapeTarget,
    Unavailable,
    local_url,
    new_port,
)
from mlplatform.local.components.s3 import PIPELINE_BUCKET
from mlplatform.local.supervisor import ProcessSpec
from mlplatform.tools import require_binary

PIPELINES = "pipeline-controller"
TUNING = "tuning-service"
TRAINING = "training-operator"  # planned before the tuning service, which runs PyTorchJob/TFJob trials on it
MODULES = {PIPELINES: "mlplatform.pipelines.cli", TUNING: "mlplatform.tuning.cli",
           TRAINING: "mlplatform.training.cli"}


def plan_pipelines(launch: Launch) -> PlannedProcess:
    return _plan(launch, PIPELINES, "pipelines",
                 ["--artifact-root", f"s3://{PIPELINE_BUCKET}/artifacts", *launch.auth_args])


def plan_training(launch: Launch) -> PlannedProcess:
    return _plan(launch, TRAINING, "training", [])


def plan_tuning(launch: Launch) -> PlannedProcess:
    extra = []
    for option, component in (("--pipelines-url", PIPELINES), ("--training-url", TRAINING)):
        if launch.url_of(component):
            extra += [option, launch.url_of(component)]
    return _plan(launch, TUNING, "tuning", [*extra, *launch.auth_args])


def _plan(launch: Launch, name: str, service: str, extra: list[str]) -> PlannedProcess:
    if not module_exists(MODULES[name]):
        raise Unavailable(f"unavailable: this build has no {MODULES[name]}")
    workdir = launch.state.workdir(name)
    port = new_port()
    command = [str(require_binary("mlp")), "serve", service, "--host", HOST, "--port", str(port),
               "--db", f"sqlite:///{workdir / (service + '.db')}", "--runner", "local",
               "--state-dir", str(workdir / "runs"), *extra]
    url = local_url(port)
    spec = ProcessSpec(name=name, command=command, health_url=f"{url}/readyz", cwd=workdir)
    return PlannedProcess(spec=spec, url=url, metrics=ScrapeTarget(f"{HOST}:{port}", "/metrics", {"component": name}))


def module_exists(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # its parent package is missing
        return False
