"""What the dashboard shows, made through the platform's public APIs: runs (kfp.Client), two tuning
experiments, one with median stopping (the tuning REST API, Katib YAML), registered models with aliases
(MLflow) and a canary rollout held at its last step (`mlp canary rollout --local`) under real traffic. Tests
and `make screenshots` use `fill`."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import kfp
import requests

from mlplatform.registries import open_registry
from mlplatform.serving.traffic import Traffic
from tests.dashboard.pipelines import scoring, shapes
from tests.support.local_fixtures import inference_request, save_iris_model
from tests.tuning.helpers import BRANIN, katib_yaml
from tests.tuning.test_early_stopping import MEDIAN_STOP

MODEL = "iris"
ANALYSIS = {"intervalSeconds": 2, "iterations": 3, "failureLimit": 1, "minRequests": 5,
            "minSuccessRate": 0.95, "maxLatencyP99Seconds": 1.0, "maxLatencyRatio": 5}
EARLY_STOPPING = "median-stop"   # Katib's medianstop example (tests/tuning): some of its 8 trials stop early
FINISHED = {"SUCCEEDED", "FAILED", "CANCELED", "SKIPPED"}


def kfp_client(platform) -> kfp.Client:
    return kfp.Client(host=platform.url("pipeline-controller"))


def submit(platform, pipeline, **arguments) -> str:
    return kfp_client(platform).create_run_from_pipeline_func(pipeline, arguments=arguments).run_id


def wait_for_run(platform, run_id: str, timeout: float = 120) -> dict:
    url = f"{platform.url('pipeline-controller')}/apis/v2beta1/runs/{run_id}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = requests.get(url, timeout=10).json()
        if run["state"] in FINISHED:
            return run
        time.sleep(0.5)
    raise AssertionError(f"run {run_id} did not finish in {timeout} s: {run['state']}")


def fill(platform, workdir: Path) -> dict[str, str]:
    """Everything the pages show; the runs and the experiment run while the models are registered, the canary
    (judged on latency) starts once they are done. Returns the run ids by name."""
    made = {"scoring": submit(platform, scoring, rows=12), "shapes": submit(platform, shapes)}
    start_experiment(platform)
    post_experiment(platform, katib_yaml(MEDIAN_STOP))
    models(platform, workdir / "models")
    for run_id in made.values():
        wait_for_run(platform, run_id)
    wait_for_experiment(platform)
    wait_for_experiment(platform, EARLY_STOPPING)
    canary(platform)
    return made


def start_experiment(platform, name: str = "branin", trials: int = 6) -> None:
    """A random-search experiment of `trials` trials (Katib's Branin example)."""
    post_experiment(platform, katib_yaml(BRANIN, name=name, algorithm="random", trials=trials, settings=""))


def post_experiment(platform, body: str) -> None:
    url = f"{platform.url('tuning-service')}/api/v1/experiments"
    answer = requests.post(url, data=body.encode(), headers={"Content-Type": "application/yaml"}, timeout=30)
    assert answer.status_code == 201, answer.text


def wait_for_experiment(platform, name: str = "branin", timeout: float = 120) -> dict:
    url = f"{platform.url('tuning-service')}/api/v1/experiments"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = requests.get(f"{url}/{name}", params={"namespace": "kubeflow"}, timeout=10).json()
        done = [c for c in found["status"]["conditions"] if c["type"] in ("Succeeded", "Failed") and c["status"] == "True"]
        if done:
            return found
        time.sleep(0.5)
    raise AssertionError(f"experiment {name} did not finish in {timeout} s")


def models(platform, workdir: Path) -> None:
    """iris v1 (@champion) and v2 (@challenger) in MLflow, their files in S3; stable serves @champion."""
    registry = open_registry("mlflow", platform.url("model-registry"))
    registry.ensure_model(MODEL)
    for label, constant in (("1", None), ("2", 2)):
        source = f"s3://models/{MODEL}/{label}"
        platform.upload_directory(save_iris_model(workdir / label, constant=constant), source)
        version = registry.ensure_version(MODEL, source=source, label=label)
        registry.set_alias(MODEL, "champion" if label == "1" else "challenger", version.version)
    platform.apply({"modelServer": {"models": [{"name": MODEL, "uri": f"models:/{MODEL}@champion"}],
                                    "canary": {"enabled": False, "weight": 0, "models": [], "analysis": ANALYSIS}}})


def canary(platform, steps: str = "25,50") -> subprocess.CompletedProcess:
    """`mlp canary rollout --local` of @challenger, held at its last step (below 100 %), under live traffic."""
    command = [sys.executable, "-c", "from mlplatform.cli import main; main()", "canary", "rollout", "--local",
               "--state-dir", str(platform.state_dir), "--version", f"models:/{MODEL}@challenger", "--steps", steps]
    with Traffic(platform.url("model-server") + f"/v2/models/{MODEL}/infer", inference_request(), rate=30):
        result = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return result
