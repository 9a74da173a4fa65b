"""Pipeline controller benchmark, in one run (writes bench/results/pipelines.json):

1. fan-out: the same 20-task ParallelFor (each task sleeps 0.5 s) through kfp.local's SubprocessRunner
   and through our controller with 4 parallel tasks. Goal: ours at least 3x faster.
2. chain: 20 tasks in sequence through our controller, against running the same kfp executor commands
   directly one after the other. Goal: at most 150 ms of overhead per task.

Usage: .venv/bin/python bench/pipelines.py [--repeats N]
(No `from __future__ import annotations`: kfp reads the components' real annotations.)
"""

import argparse
import subprocess
import tempfile
import time
from pathlib import Path

from common import summarize, write_result  # (common puts the project on sys.path)
from kfp import dsl, local

from tests.support.service_process import ServiceProcess

FAN_OUT_TASKS = 20
CHAIN_TASKS = 20
SLEEP_SECONDS = 0.5
PARALLEL = 4


@dsl.component(base_image="python:3.11")
def nap(seconds: float, index: int) -> int:
    import time

    time.sleep(seconds)
    return index


@dsl.component(base_image="python:3.11")
def step(x: int) -> int:
    return x + 1


@dsl.pipeline(name="bench-fan-out")
def fan_out(seconds: float = SLEEP_SECONDS):
    with dsl.ParallelFor(items=list(range(FAN_OUT_TASKS))) as index:
        # kfp.Client's enable_caching=False reaches only the root DAG's tasks, not a loop's.
        nap(seconds=seconds, index=index).set_caching_options(False)


@dsl.pipeline(name="bench-chain")
def chain() -> int:
    task = step(x=0)
    for _ in range(CHAIN_TASKS - 1):
        task = step(x=task.output)
    return task.output


def kfp_local_fan_out(workdir: Path) -> float:
    local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=str(workdir / "kfp-local"))
    started = time.perf_counter()
    fan_out()
    return time.perf_counter() - started


class Controller(ServiceProcess):
    def __init__(self, workdir: Path):
        super().__init__("pipelines", workdir, max_parallel=PARALLEL)
        self.start()

    def run(self, pipeline) -> float:
        """Seconds from submission to SUCCEEDED."""
        import kfp
        import requests

        client = kfp.Client(host=self.url)
        started = time.perf_counter()
        run_id = client.create_run_from_pipeline_func(
            pipeline, enable_caching=False, experiment_name="bench"
        ).run_id
        while True:
            state = requests.get(f"{self.url}/apis/v2beta1/runs/{run_id}", timeout=30).json()["state"]
            if state in ("SUCCEEDED", "FAILED", "CANCELED"):
                break
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
        if state != "SUCCEEDED":
            raise RuntimeError(f"benchmark run {run_id} ended {state}")
        return elapsed



def bare_chain(workdir: Path) -> float:
    """The chain's executor commands, built as the controller builds them, run directly in sequence."""
    import yaml
    from kfp import compiler

    from mlplatform.pipelines.artifacts import ArtifactRoot
    from mlplatform.pipelines.engine.launch import command_for, read_outputs
    from mlplatform.pipelines.engine.layout import DirectLayout
    from mlplatform.pipelines.ir.placeholders import RunContext

    package = workdir / "chain.yaml"
    compiler.Compiler().compile(chain, str(package))
    spec = yaml.safe_load(package.read_text())
    component = spec["components"]["comp-step"]
    container = spec["deploymentSpec"]["executors"]["exec-step"]["container"]
    root = ArtifactRoot(str(workdir / "bare-artifacts"))
    layout = DirectLayout(root, workdir / "bare")
    value = 0
    started = time.perf_counter()
    for index in range(CHAIN_TASKS):
        files = layout.prepare(f"task-{index}", 1, component, {"x": value}, {}, {}, "bare")
        context = RunContext("bare", "bare", "bare", "step", f"task-{index}", root.root)
        subprocess.run(command_for(container, files, context, workdir / "venvs"), check=True, capture_output=True)
        value = read_outputs(root, files, component, {})["parameters"]["Output"]
    elapsed = time.perf_counter() - started
    assert value == CHAIN_TASKS, value
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--repeats", type=int, default=1, help="repeat each measurement (the median is compared)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-pipelines-") as temporary:
        workdir = Path(temporary)
        kfp_local = [kfp_local_fan_out(workdir) for _ in range(args.repeats)]
        controller = Controller(workdir)
        try:
            ours_fan_out = [controller.run(fan_out) for _ in range(args.repeats)]
            ours_chain = [controller.run(chain) for _ in range(args.repeats)]
        finally:
            controller.stop()
        bare = [bare_chain(workdir) for _ in range(args.repeats)]
    fan_out_ratio = summarize(kfp_local)["median"] / summarize(ours_fan_out)["median"]
    overhead_ms = (summarize(ours_chain)["median"] - summarize(bare)["median"]) / CHAIN_TASKS * 1000
    write_result(
        "pipelines",
        {
            "fan_out": {
                "tasks": FAN_OUT_TASKS,
                "sleep_seconds": SLEEP_SECONDS,
                "controller_parallel": PARALLEL,
                "kfp_local_subprocess_seconds": summarize(kfp_local),
                "controller_seconds": summarize(ours_fan_out),
                "speedup": round(fan_out_ratio, 2),
                "goal_speedup": 3.0,
                "meets_goal": fan_out_ratio >= 3.0,
            },
            "chain": {
                "tasks": CHAIN_TASKS,
                "controller_seconds": summarize(ours_chain),
                "bare_executor_seconds": summarize(bare),
                "overhead_ms_per_task": round(overhead_ms, 1),
                "goal_ms_per_task": 150,
                "meets_goal": overhead_ms <= 150,
            },
        },
    )


if __name__ == "__main__":
    main()
