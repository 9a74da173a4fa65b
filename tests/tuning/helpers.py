"""A live tuning service (`mlp serve tuning` as a subprocess), a small HTTP client for it, and helpers.

Experiments are written as Katib users write them (YAML), with `{{python}}` and `{{objectives}}`
standing for this interpreter and the objective scripts in tests/tuning/objectives/.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests
import yaml

from mlplatform.net import free_port, wait_for_http

OBJECTIVES = Path(__file__).resolve().parent / "objectives"
ROOT = Path(__file__).resolve().parents[2]
MLP = Path(sys.executable).parent / "mlp"


def katib_yaml(text: str, **values) -> str:
    """Experiment YAML with the local interpreter and objective scripts filled in."""
    text = text.replace("{{python}}", sys.executable).replace("{{objectives}}", str(OBJECTIVES))
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", str(value))
    return text


def condition(experiment: dict, kind: str) -> dict | None:
    for item in experiment.get("status", {}).get("conditions", []):
        if item["type"] == kind and item["status"] == "True":
            return item
    return None


def finished(experiment: dict) -> dict | None:
    return condition(experiment, "Succeeded") or condition(experiment, "Failed")


class TuningService:
    """One `mlp serve tuning` process; `restart()` keeps its database and state directory."""

    def __init__(
        self,
        workdir: Path,
        *,
        max_parallel: int = 4,
        env: dict | None = None,
        extra_args: list[str] | None = None,
    ):
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.db = f"sqlite:///{workdir / 'tuning.db'}"
        self.max_parallel = max_parallel
        self.env = {**os.environ, **(env or {})}
        self.extra_args = extra_args or []
        self.process: subprocess.Popen | None = None
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / "service.log"

    def start(self) -> TuningService:
        command = [
            str(MLP),
            "serve",
            "tuning",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--db",
            self.db,
            "--state-dir",
            str(self.workdir / "state"),
            "--max-parallel",
            str(self.max_parallel),
            *self.extra_args,
        ]
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.workdir,
            env=self.env,
            start_new_session=True,
        )
        wait_for_http(
            f"{self.url}/readyz",
            timeout=60,
            what="tuning service",
            ok=lambda response: response.status_code == 200,
            alive=lambda: self.process.poll() is None,
        )
        return self

    def kill(self) -> None:
        """SIGKILL: the service dies mid-flight, as in a crash or an evicted pod. Trials keep running."""
        self.process.kill()
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    # --- the API ------------------------------------------------------------------------------------------

    def submit(self, body: str | dict, content_type: str = "application/yaml") -> requests.Response:
        if isinstance(body, dict):
            return requests.post(f"{self.url}/api/v1/experiments", json=body, timeout=30)
        return requests.post(
            f"{self.url}/api/v1/experiments",
            data=body.encode(),
            headers={"Content-Type": content_type},
            timeout=30,
        )

    def create(self, body: str | dict) -> dict:
        response = self.submit(body)
        assert response.status_code == 201, response.text
        return response.json()

    def experiment(self, name: str) -> dict:
        response = requests.get(f"{self.url}/api/v1/experiments/{name}", timeout=30)
        assert response.status_code == 200, response.text
        return response.json()

    def trials(self, name: str) -> list[dict]:
        response = requests.get(f"{self.url}/api/v1/experiments/{name}/trials", timeout=30)
        assert response.status_code == 200, response.text
        return response.json()["items"]

    def patch(self, name: str, body: dict) -> requests.Response:
        return requests.patch(f"{self.url}/api/v1/experiments/{name}", json=body, timeout=30)

    def delete(self, name: str) -> requests.Response:
        return requests.delete(f"{self.url}/api/v1/experiments/{name}", timeout=60)

    def wait_until(self, name: str, predicate, timeout: float = 90.0, what: str = "the condition") -> dict:
        deadline = time.monotonic() + timeout
        while True:
            experiment = self.experiment(name)
            if predicate(experiment):
                return experiment
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"experiment {name}: timed out after {timeout}s waiting for {what}; "
                    f"status: {experiment.get('status')}\n--- service log ---\n{self.log()[-4000:]}"
                )
            time.sleep(0.2)

    def wait_finished(self, name: str, timeout: float = 120.0) -> dict:
        return self.wait_until(name, finished, timeout, "it to finish")


def trial_state(trial: dict) -> str:
    """The trial's last condition type: Succeeded, Failed, EarlyStopped, Killed, Running or Created."""
    true = [item for item in trial["status"]["conditions"] if item["status"] == "True"]
    return true[-1]["type"]


def assignments(trial: dict) -> dict[str, str]:
    return {item["name"]: item["value"] for item in trial["spec"]["parameterAssignments"]}


def metric(observed: dict, name: str, key: str = "latest") -> str:
    return next(item[key] for item in observed["metrics"] if item["name"] == name)


def load(text: str) -> dict:
    return yaml.safe_load(text)
