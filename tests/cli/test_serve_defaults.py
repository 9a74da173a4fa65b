"""`mlp serve pipelines` and `mlp serve tuning` with every default, started in an empty directory, run a
pipeline and an experiment to success: relative defaults (`sqlite:///pipelines.db`, `.mlplatform/<service>`)
land in that directory, and each task and trial runs in its own directory below it.

This is the first thing a reader of docs/pipelines.md and docs/tuning.md does; every task and trial once
failed there because the runner's paths were relative to a directory the task did not run in.
(No `from __future__ import annotations` here: kfp reads the component annotations as types.)
"""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from mlplatform.net import wait_for_http

# The defaults 8888/8585 are fixed ports: under pytest-xdist these tests share a group with the docs runs that use them.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("default-ports-and-checkout")]

MLP = Path(sys.executable).parent / "mlp"
PIPELINES_PORT, TUNING_PORT = 8888, 8585     # the defaults


@pytest.fixture
def serve(tmp_path):
    started = []

    def start(service: str, port: int) -> str:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                pytest.fail(f"port {port} is taken: the default of `mlp serve {service}` must be free for this test")
        log = (tmp_path / f"{service}.log").open("wb")
        process = subprocess.Popen([str(MLP), "serve", service], cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        started.append(process)
        url = f"http://127.0.0.1:{port}"
        wait_for_http(f"{url}/readyz", timeout=60, what=f"mlp serve {service}", alive=lambda: process.poll() is None,
                      ok=lambda response: response.status_code == 200)
        return url

    yield start
    for process in started:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def test_a_pipeline_runs_with_every_default(serve, tmp_path):
    import kfp
    from kfp import dsl

    @dsl.component
    def write(text: str, out: dsl.Output[dsl.Dataset]):
        import os

        with open(out.path, "w") as handle:
            handle.write(f"{text} from {os.getcwd()}")

    @dsl.component
    def read(data: dsl.Input[dsl.Dataset]) -> str:
        with open(data.path) as handle:
            return handle.read()

    @dsl.pipeline(name="defaults")
    def defaults(text: str = "hello"):
        read(data=write(text=text).outputs["out"])

    client = kfp.Client(host=serve("pipelines", PIPELINES_PORT))
    run = client.create_run_from_pipeline_func(defaults, arguments={})
    finished = client.wait_for_run_completion(run.run_id, timeout=300)
    assert finished.state == "SUCCEEDED", finished.error
    assert (tmp_path / "pipelines.db").exists()
    written = [path for path in (tmp_path / ".mlplatform" / "pipelines" / "artifacts").rglob("*") if path.is_file()]
    assert written, "no artifact under the default artifact root"
    task_dir = written[0].read_text().removeprefix("hello from ")
    assert Path(task_dir).is_relative_to(tmp_path / ".mlplatform" / "pipelines") and Path(task_dir) != tmp_path


def test_an_experiment_runs_with_every_default(serve, tmp_path):
    url = serve("tuning", TUNING_PORT)
    script = "import os, sys; print('cwd=' + os.getcwd()); print('loss=' + sys.argv[1])"
    experiment = {
        "apiVersion": "kubeflow.org/v1beta1", "kind": "Experiment", "metadata": {"name": "defaults"},
        "spec": {
            "objective": {"type": "minimize", "objectiveMetricName": "loss"},
            "algorithm": {"algorithmName": "random"}, "maxTrialCount": 2, "parallelTrialCount": 2,
            "parameters": [{"name": "x", "parameterType": "double", "feasibleSpace": {"min": "0", "max": "1"}}],
            "trialTemplate": {
                "primaryContainerName": "main", "trialParameters": [{"name": "x", "reference": "x"}],
                "trialSpec": {"apiVersion": "batch/v1", "kind": "Job", "spec": {"template": {"spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "main", "image": "python:3.11-slim",
                                    "command": [sys.executable, "-c", script, "${trialParameters.x}"]}]}}}}}}}
    assert requests.post(f"{url}/api/v1/experiments", json=experiment, timeout=30).status_code == 201
    deadline = time.monotonic() + 120
    while (status := requests.get(f"{url}/api/v1/experiments/defaults", timeout=30).json()["status"]) \
            .get("completionTime") is None and time.monotonic() < deadline:
        time.sleep(0.5)
    assert status.get("trialsSucceeded") == 2, status
    assert (tmp_path / "tuning.db").exists()
    for trial in requests.get(f"{url}/api/v1/experiments/defaults/trials", timeout=30).json()["items"]:
        name = trial["metadata"]["name"]
        output = requests.get(f"{url}/api/v1/experiments/defaults/trials/{name}/logs", timeout=30).text
        assert f"cwd={tmp_path / '.mlplatform' / 'tuning' / name}" in output, output
