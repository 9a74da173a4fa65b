"""SIGKILL the controller mid-run and start it again: in-flight runs resume, or end FAILED with a reason."""

from __future__ import annotations

import os
import signal
import time

import pytest

from tests.pipelines import pipelines
from tests.pipelines.controller import tasks_by_name

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::FutureWarning")]


def wait_for_running_task(controller, run_id: str, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        running = [
            t
            for t in controller.run_json(run_id).get("run_details", {}).get("task_details", [])
            if t["kind"] == "executor" and t["state"] == "RUNNING"
        ]
        if running:
            return running[0]
        time.sleep(0.1)
    raise TimeoutError(f"no task of run {run_id} started")


def test_killed_controller_resumes_in_flight_runs(start_controller):
    controller = start_controller()
    client = controller.client()
    resumed = client.create_run_from_pipeline_func(
        pipelines.sleepy_chain, arguments={"seconds": 1.5}, experiment_name="restart"
    ).run_id
    lost = client.create_run_from_pipeline_func(
        pipelines.sleepy_chain, arguments={"seconds": 30}, experiment_name="restart"
    ).run_id
    wait_for_running_task(controller, resumed)
    doomed = wait_for_running_task(controller, lost)
    pid_file = controller.workdir / "state" / "tasks" / doomed["pod_name"] / "pid"
    deadline = time.monotonic() + 30
    while not pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.05)

    controller.kill()
    # While the controller is down, the second run's task dies without leaving an exit code.
    pid = int(pid_file.read_text().split()[0])
    os.killpg(pid, signal.SIGKILL)
    controller.start()

    finished = controller.wait(resumed, timeout=60)
    assert finished["state"] == "SUCCEEDED", finished["error"]
    assert all(
        task["attempts"] == 1 for task in tasks_by_name(finished)["sleep-for"]
    )  # re-attached, not re-run

    failed = controller.wait(lost, timeout=60)
    assert failed["state"] == "FAILED"
    assert "Lost" in failed["error"]["message"] and "sleep-for" in failed["error"]["message"]
    assert (
        controller.get(
            "/apis/v2beta1/runs",
            filter='{"predicates": [{"key": "state", "operation": "IN", '
            '"stringValues": {"values": ["RUNNING", "PENDING", "CANCELING"]}}]}',
        ).json()["total_size"]
        == 0
    )
