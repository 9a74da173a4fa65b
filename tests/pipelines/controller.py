"""A live pipeline controller for tests: `mlp serve pipelines` as a subprocess on a free port."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import kfp
import requests

from mlplatform.net import free_port, wait_for_http

ROOT = Path(__file__).resolve().parents[2]
FINAL_STATES = ("SUCCEEDED", "FAILED", "CANCELED", "SKIPPED")


class Controller:
    def __init__(
        self,
        directory: Path,
        max_parallel: int = 4,
        artifact_root: str | None = None,
        env: dict | None = None,
        runner: str = "local",
    ):
        self.directory = directory
        self.max_parallel = max_parallel
        self.artifact_root = artifact_root
        self.env = env or {}
        self.runner = runner
        self.process: subprocess.Popen | None = None
        self.port = 0
        self.starts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.directory / f"controller-{self.starts}.log"

    def start(self) -> Controller:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.starts += 1
        command = [
            str(Path(sys.executable).parent / "mlp"),
            "serve",
            "pipelines",
            "--port",
            str(self.port),
            "--db",
            f"sqlite:///{self.directory / 'state.db'}",
            "--state-dir",
            str(self.directory / "state"),
            "--max-parallel",
            str(self.max_parallel),
            "--runner",
            self.runner,
        ]
        if self.artifact_root:
            command += ["--artifact-root", self.artifact_root]
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, env={**os.environ, **self.env}
            )
        wait_for_http(
            f"{self.url}/readyz",
            timeout=60,
            what="the pipeline controller",
            ok=lambda r: r.status_code == 200,
            alive=lambda: self.process.poll() is None,
        )
        return self

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a crash."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def logs(self) -> str:
        return "\n".join(
            path.read_text(errors="replace") for path in sorted(self.directory.glob("controller-*.log"))
        )

    def client(self) -> kfp.Client:
        return kfp.Client(host=self.url)

    def get(self, path: str, **params) -> requests.Response:
        return requests.get(f"{self.url}{path}", params=params, timeout=30)

    def post(self, path: str, **kwargs) -> requests.Response:
        return requests.post(f"{self.url}{path}", timeout=30, **kwargs)

    def run_json(self, run_id: str) -> dict:
        response = self.get(f"/apis/v2beta1/runs/{run_id}")
        response.raise_for_status()
        return response.json()

    def wait(self, run_id: str, timeout: float = 120) -> dict:
        """The run's JSON once it has finished (faster polling than kfp's wait_for_run_completion)."""
        deadline = time.monotonic() + timeout
        while True:
            run = self.run_json(run_id)
            if run["state"] in FINAL_STATES:
                return run
            if time.monotonic() > deadline:
                raise TimeoutError(f"run {run_id} still {run['state']} after {timeout}s")
            time.sleep(0.2)


def tasks_by_name(run: dict) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for task in run.get("run_details", {}).get("task_details", []):
        found.setdefault(task["display_name"], []).append(task)
    return found
