"""A live pipeline controller for tests: `mlp serve pipelines` as a subprocess on a free port."""

from __future__ import annotations

import time
from pathlib import Path

import kfp
import requests

from tests.support.service_process import ServiceProcess

ROOT = Path(__file__).resolve().parents[2]
FINAL_STATES = ("SUCCEEDED", "FAILED", "CANCELED", "SKIPPED")


class Controller(ServiceProcess):
    """A live pipeline controller (`mlp serve pipelines`) and the calls the tests make to it."""

    def __init__(self, workdir: Path, max_parallel: int = 4, artifact_root: str | None = None,
                 env: dict | None = None, runner: str = "local"):
        args = ["--runner", runner, *(["--artifact-root", artifact_root] if artifact_root else [])]
        super().__init__("pipelines", workdir, max_parallel=max_parallel, env=env, args=args, cwd=ROOT)

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

    def task_log(self, run_id: str, task_id: str) -> str:
        response = self.get(f"/apis/v2beta1/runs/{run_id}/tasks/{task_id}/logs")
        response.raise_for_status()
        return response.text

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
