"""Distributed training launch overhead: the same 2-replica gloo script, side by side, in one run:

1. as a single process (no process group): the script's own cost;
2. `torchrun --nproc-per-node 2`, run by hand;
3. a PyTorchJob (1 Master + 1 Worker) through the training operator in local mode (`mlp serve training
   --runner local`), timed from the create call to the Succeeded condition, as a client sees it.

Two scripts: the demo's DDP trainer (mlplatform.demo.ddp_trainer: data, 3 epochs) and a gloo probe that
only joins the process group and all-reduces one tensor, whose short run lets the launch itself stand out
of the machine's noise. Launch overhead = (3) - (2) on the fastest of --repeats interleaved runs each (the
run least disturbed by other load, as timeit takes the minimum); the medians' difference and the load
average are recorded beside it. Goal: <= 1 s.
Usage: .venv/bin/python bench/training.py [--repeats 5]  -> bench/results/training.json
"""

from __future__ import annotations

import argparse
import os
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
DDP_TRAINER = ["-m", "mlplatform.demo.ddp_trainer", "--rows", "4000", "--epochs", "3"]
GLOO_PROBE = """import os
import torch
import torch.distributed as dist
if int(os.environ.get("WORLD_SIZE", "1")) > 1:
    dist.init_process_group("gloo")
    total = torch.ones(1)
    dist.all_reduce(total)
    print(f"rank={dist.get_rank()} sum={total.item()}")
    dist.destroy_process_group()
"""
TORCHRUN = str(Path(sys.executable).parent / "torchrun")


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def single_process(script: list[str]) -> float:
    return timed([sys.executable, *script])


def torchrun_by_hand(script: list[str]) -> float:
    return timed([TORCHRUN, "--nproc-per-node", "2", "--master-addr", "127.0.0.1",
                  "--master-port", str(free_port()), *script])


def pytorchjob(custom: client.CustomObjectsApi, name: str, script: list[str]) -> float:
    manifest = pytorchjob_manifest(name, NAMESPACE, [sys.executable, *script], workers=1, image="local")
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


def measure(custom: client.CustomObjectsApi, label: str, script: list[str], repeats: int) -> dict:
    samples: dict[str, list[float]] = {"single_process": [], "torchrun_by_hand": [], "pytorchjob": []}
    for repeat in range(repeats):  # interleaved, so drifting load hits every mode alike
        samples["single_process"].append(single_process(script))
        samples["torchrun_by_hand"].append(torchrun_by_hand(script))
        samples["pytorchjob"].append(pytorchjob(custom, f"bench-{label}-{repeat}", script))
    fastest = {mode: min(values) for mode, values in samples.items()}
    medians = {mode: statistics.median(values) for mode, values in samples.items()}
    return {
        "seconds": {mode: summarize(values) for mode, values in samples.items()},
        "launch_overhead_seconds": round(fastest["pytorchjob"] - fastest["torchrun_by_hand"], 3),
        "launch_overhead_of_medians_seconds": round(medians["pytorchjob"] - medians["torchrun_by_hand"], 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-training-") as workdir:
        probe = Path(workdir) / "gloo_probe.py"
        probe.write_text(GLOO_PROBE)
        operator = ServiceProcess("training", Path(workdir) / "operator").start()
        try:
            custom = client.CustomObjectsApi(api_client_for_url(operator.url))
            results = {"gloo_probe": measure(custom, "probe", [str(probe)], args.repeats),
                       "ddp_trainer": measure(custom, "ddp", DDP_TRAINER, args.repeats)}
        finally:
            operator.stop()
    overhead = results["gloo_probe"]["launch_overhead_seconds"]
    write_result("training", {
        "replicas": 2,
        "backend": "gloo",
        "repeats": args.repeats,
        "scripts": {"gloo_probe": "join the process group, all_reduce one tensor",
                    "ddp_trainer": "python " + " ".join(DDP_TRAINER)},
        **results,
        "launch_overhead_seconds": overhead,
        "goal_seconds": GOAL_SECONDS,
        "goal_met": overhead <= GOAL_SECONDS,
        "load_average_1m_after": os.getloadavg()[0],
    })


if __name__ == "__main__":
    main()
