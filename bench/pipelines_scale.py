"""Pipeline controller at scale, in one run (writes bench/results/pipelines_scale.json):

1. fan-out: a 500-way ParallelFor (parallelism 8) of trivial container tasks: wall time, time per task,
   the controller's peak RSS. Goals: at most 30 ms per task, RSS at most 300 MB.
2. stored runs: 10,000 finished runs in SQLite, then run list (page of 20) and run get latency through
   the API. Goal: list p95 at most 100 ms.
3. burst: 50 runs submitted at once from 50 threads; all must finish SUCCEEDED, none lost.

Usage: .venv/bin/python bench/pipelines_scale.py
(No `from __future__ import annotations`: kfp reads the components' real annotations.)
"""

import os
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from common import summarize, write_result  # (common puts the project on sys.path)
from kfp import dsl

from tests.support.service_process import ServiceProcess

FAN_OUT_TASKS = 500
PARALLELISM = 8
STORED_RUNS = 10_000
LATENCY_SAMPLES = 200
BURST_RUNS = 50


@dsl.container_component
def touch(index: int):
    return dsl.ContainerSpec(image="busybox", command=["sh", "-c", "true"], args=[str(index)])


@dsl.pipeline(name="scale-fan-out")
def fan_out():
    with dsl.ParallelFor(items=list(range(FAN_OUT_TASKS)), parallelism=PARALLELISM) as index:
        touch(index=index).set_caching_options(False)


@dsl.pipeline(name="scale-burst")
def burst(index: int = 0):
    touch(index=index).set_caching_options(False)


class Controller(ServiceProcess):
    def __init__(self, workdir: Path):
        super().__init__("pipelines", workdir, max_parallel=PARALLELISM)

    def submit(self, pipeline, arguments: dict | None = None) -> str:
        import kfp

        client = kfp.Client(host=self.url)
        return client.create_run_from_pipeline_func(
            pipeline, arguments=arguments or {}, enable_caching=False, experiment_name="scale"
        ).run_id

    def state(self, run_id: str) -> str:
        return requests.get(f"{self.url}/apis/v2beta1/runs/{run_id}", timeout=60).json()["state"]

    def cpu_seconds(self) -> float:
        """User + system CPU the controller process has used (robust to other load on the machine)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0


def wait_all(controller: Controller, run_ids: list[str], timeout: float, on_poll=None) -> dict[str, str]:
    deadline, states = time.monotonic() + timeout, {}
    while time.monotonic() < deadline:
        states = {run_id: controller.state(run_id) for run_id in run_ids}
        if on_poll:
            on_poll()
        if all(state in ("SUCCEEDED", "FAILED", "CANCELED") for state in states.values()):
            break
        time.sleep(0.5)
    return states


def measure_fan_out(workdir: Path) -> dict:
    controller = Controller(workdir / "fan-out").start()
    peak = [controller.rss_mb()]
    try:
        started, cpu_before = time.perf_counter(), controller.cpu_seconds()
        run_id = controller.submit(fan_out)
        states = wait_all(controller, [run_id], 3600, on_poll=lambda: peak.append(controller.rss_mb()))
        elapsed, cpu = time.perf_counter() - started, controller.cpu_seconds() - cpu_before
    finally:
        controller.stop()
    per_task_ms = elapsed / FAN_OUT_TASKS * 1000
    return {
        "tasks": FAN_OUT_TASKS, "parallelism": PARALLELISM, "state": states[run_id],
        "wall_seconds": round(elapsed, 2), "ms_per_task": round(per_task_ms, 1), "goal_ms_per_task": 30,
        "controller_cpu_ms_per_task": round(cpu / FAN_OUT_TASKS * 1000, 1),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "controller_peak_rss_mb": round(max(peak), 1), "goal_rss_mb": 300,
        "meets_goal": states[run_id] == "SUCCEEDED" and per_task_ms <= 30 and max(peak) <= 300,
    }


def store_finished_runs(workdir: Path, count: int) -> None:
    from sqlalchemy import create_engine

    from mlplatform.pipelines.store import Run, Store
    from mlplatform.pipelines.store.models import Experiment

    store = Store(create_engine(f"sqlite:///{workdir / 'state.db'}"))
    spec = {"pipelineInfo": {"name": "stored"}, "root": {"dag": {"tasks": {}}}, "components": {},
            "deploymentSpec": {"executors": {}}, "schemaVersion": "2.1.0", "sdkVersion": "kfp-2.17.3"}
    now = time.time()
    with store.session() as session:
        experiment = Experiment(display_name="stored")
        session.add(experiment)
        session.flush()
        session.add_all(
            Run(experiment_id=experiment.id, display_name=f"stored-{index}", pipeline_spec=spec,
                parameters={}, state="SUCCEEDED", created_at=now - count + index, finished_at=now,
                state_history=[], outputs={})
            for index in range(count)
        )


def measure_stored_runs(workdir: Path) -> dict:
    directory = workdir / "stored"
    directory.mkdir()
    started = time.perf_counter()
    store_finished_runs(directory, STORED_RUNS)
    stored_seconds = time.perf_counter() - started
    controller = Controller(directory).start()
    session = requests.Session()
    try:
        listed, got = [], []
        first = session.get(f"{controller.url}/apis/v2beta1/runs", params={"page_size": 20}).json()
        run_ids = [run["run_id"] for run in first["runs"]]
        for index in range(LATENCY_SAMPLES):
            begin = time.perf_counter()
            response = session.get(f"{controller.url}/apis/v2beta1/runs",
                                   params={"page_size": 20, "sort_by": "created_at desc"})
            listed.append(time.perf_counter() - begin)
            response.raise_for_status()
            begin = time.perf_counter()
            run_id = run_ids[index % len(run_ids)]
            session.get(f"{controller.url}/apis/v2beta1/runs/{run_id}").raise_for_status()
            got.append(time.perf_counter() - begin)
        total = first["total_size"]
    finally:
        controller.stop()
    list_p95 = sorted(listed)[int(0.95 * (len(listed) - 1))]
    return {
        "database": "sqlite", "stored_runs": total, "insert_seconds": round(stored_seconds, 2),
        "list_seconds": summarize(listed), "list_p95_ms": round(list_p95 * 1000, 1),
        "get_seconds": summarize(got), "get_p95_ms": round(sorted(got)[int(0.95 * (len(got) - 1))] * 1000, 1),
        "goal_list_p95_ms": 100, "meets_goal": list_p95 <= 0.1 and total == STORED_RUNS,
    }


def measure_burst(workdir: Path) -> dict:
    controller = Controller(workdir / "burst").start()
    try:
        import kfp

        kfp.Client(host=controller.url).create_experiment("scale")  # kfp.Client's get-or-create races
        gate = threading.Barrier(BURST_RUNS)

        def submit(index: int) -> str:
            gate.wait()
            return controller.submit(burst, {"index": index})

        started = time.perf_counter()
        with ThreadPoolExecutor(BURST_RUNS) as pool:
            run_ids = list(pool.map(submit, range(BURST_RUNS)))
        states = wait_all(controller, run_ids, 1800)
        elapsed = time.perf_counter() - started
        listed = requests.get(
            f"{controller.url}/apis/v2beta1/runs", params={"page_size": 200}, timeout=60
        ).json()
    finally:
        controller.stop()
    succeeded = sum(state == "SUCCEEDED" for state in states.values())
    lost = BURST_RUNS - len({run["run_id"] for run in listed.get("runs", [])} & set(run_ids))
    return {
        "runs": BURST_RUNS, "submitted": len(set(run_ids)), "succeeded": succeeded, "lost": lost,
        "wall_seconds": round(elapsed, 2), "meets_goal": succeeded == BURST_RUNS and lost == 0,
    }


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-pipelines-scale-") as temporary:
        workdir = Path(temporary)
        result = {
            "stored_runs": measure_stored_runs(workdir),
            "burst": measure_burst(workdir),
            "fan_out": measure_fan_out(workdir),
        }
    write_result("pipelines_scale", result)


if __name__ == "__main__":
    main()
