"""Distributed training launch overhead: the same 2-worker gloo DDP script (mlplatform.demo.ddp_trainer),
side by side, in one run:

1. as a single process (no process group): the script's own cost;
2. `torchrun --nproc-per-node 2`, run by hand;
3. a PyTorchJob (1 Master + 1 Worker) through the training operator in local mode (`mlp serve training
   --runner local`), timed from the create call to the Succeeded condition, as a client sees it.

Launch overhead = (3) - (2), medians over --repeats runs each. Goal: <= 1 s.
Usage: .venv/bin/python bench/training.py [--repeats 3]  -> bench/results/training.json
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import summarize, write_result  # (common puts the project on sys.path)
from kubernetes import client

from mlplatform.components.jobs import GROUP, PLURAL, VERSION, pytorchjob_manifest
from mlplatform.kube import api_client_for_url
from mlplatform.net import free_port
from tests.support.service_process import ServiceProcess

GOAL_SECONDS = 1.0
NAMESPACE = "default"
POLL_SECONDS = 0.02  # fine enough not to add to what is measured
SCRIPT = ["-m", "mlplatform.demo.ddp_trainer", "--rows", "4000", "--epochs", "3"]
TORCHRUN = str(Path(sys.executable).parent / "torchrun")


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def single_process() -> float:
    return timed([sys.executable, *SCRIPT])


def torchrun_by_hand() -> float:
    return timed([TORCHRUN, "--nproc-per-node", "2", "--master-addr", "127.0.0.1",
                  "--master-port", str(free_port()), *SCRIPT])


def pytorchjob(custom: client.CustomObjectsApi, name: str) -> float:
    manifest = pytorchjob_manifest(name, NAMESPACE, [sys.executable, *SCRIPT], workers=1, image="local")
    started = time.perf_counter()
    custom.create_namespaced_custom_object(GROUP, VERSION, NAMESPACE, PLURAL, manifest)
    while True:
        conditions = (custom.get_namespaced_custom_object(GROUP, VERSION, NAMESPACE, PLURAL, name)
                      .get("status") or {}).get("conditions") or []
        ended = {c["type"] for c in conditions if c.get("status") == "True"} & {"Succeeded", "Failed"}
        if ended:
            elapsed = time.perf_counter() - started
            if ended != {"Succeeded"}:
                raise RuntimeError(f"PyTorchJob {name} failed: {conditions}")
            custom.delete_namespaced_custom_object(GROUP, VERSION, NAMESPACE, PLURAL, name)
            return elapsed
        time.sleep(POLL_SECONDS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    samples: dict[str, list[float]] = {"single_process": [], "torchrun_by_hand": [], "pytorchjob": []}
    with tempfile.TemporaryDirectory(prefix="bench-training-") as workdir:
        operator = ServiceProcess("training", Path(workdir) / "operator").start()
        try:
            custom = client.CustomObjectsApi(api_client_for_url(operator.url))
            for repeat in range(args.repeats):  # interleaved, so drifting load hits every mode alike
                samples["single_process"].append(single_process())
                samples["torchrun_by_hand"].append(torchrun_by_hand())
                samples["pytorchjob"].append(pytorchjob(custom, f"bench-{repeat}"))
        finally:
            operator.stop()
    medians = {mode: statistics.median(values) for mode, values in samples.items()}
    overhead = medians["pytorchjob"] - medians["torchrun_by_hand"]
    write_result("training", {
        "script": "python " + " ".join(SCRIPT),
        "replicas": 2,
        "backend": "gloo",
        "repeats": args.repeats,
        "seconds": {mode: summarize(values) for mode, values in samples.items()},
        "launch_overhead_seconds": round(overhead, 3),
        "goal_seconds": GOAL_SECONDS,
        "goal_met": overhead <= GOAL_SECONDS,
    })


if __name__ == "__main__":
    main()
