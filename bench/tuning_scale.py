"""Tuning service at scale (`mlp serve tuning`, local runner), in one run:

1. 1,000 trials of a trivial objective (`/bin/echo loss=<x>`) at parallelTrialCount 8: wall time, the
   service's overhead per trial (wall time per trial minus the command's own cost spread over the
   cores), the service's own CPU seconds per trial (robust to other load on the machine; the load
   average is recorded beside it), and the service's peak RSS (its own process, trials excluded);
2. 20 experiments at once (10 trials each, parallelTrialCount 2, 8 runner slots): every experiment's
   longest stretch without a new trial while it was unfinished, against the 1 s reconcile interval.

Goals: overhead <= 30 ms per trial at 1,000 trials; RSS <= 300 MB; no experiment starves (its longest
gap stays within a poll interval of the busiest runner queue).
Usage: .venv/bin/python bench/tuning_scale.py [--trials 1000]  -> bench/results/tuning_scale.json
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import requests
from common import summarize, write_result  # (common puts the project on sys.path)
from tuning import experiment

from mlplatform.tuning.engine import RECONCILE_SECONDS
from tests.support.service_process import ServiceProcess

PARALLEL = 8
CONCURRENT_EXPERIMENTS, CONCURRENT_TRIALS, CONCURRENT_PARALLEL = 20, 10, 2


def echo_experiment(name: str, trials: int, parallel: int) -> dict:
    manifest = experiment(name, "", algorithm="random", trials=trials, parallel=parallel)
    container = manifest["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]
    container["command"] = ["/bin/echo", "loss=${trialParameters.x1}"]
    return manifest


class PeakRss(threading.Thread):
    """Samples a process's VmRSS every 0.2 s; `peak_mb` is the highest seen."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak_kb, self._done = pid, 0, threading.Event()

    def run(self) -> None:
        while not self._done.wait(0.2):
            try:
                for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        self.peak_kb = max(self.peak_kb, int(line.split()[1]))
            except FileNotFoundError:
                return

    def stop(self) -> float:
        self._done.set()
        return round(self.peak_kb / 1024, 1)


def cpu_seconds(pid: int) -> float:
    """The process's user + system CPU time so far: the service's own cost, whatever else the machine runs."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def finished(body: dict) -> bool:
    return any(c["type"] in ("Succeeded", "Failed") and c["status"] == "True" for c in body["status"]["conditions"])


def status(service: ServiceProcess, name: str) -> dict:
    return requests.get(f"{service.url}/api/v1/experiments/{name}", timeout=60).json()


def direct_echo_seconds(runs: int = 200) -> float:
    started = time.perf_counter()
    for _ in range(runs):
        subprocess.run(["/bin/echo", "loss=0.5"], check=True, capture_output=True)
    return (time.perf_counter() - started) / runs


def many_trials(workdir: Path, trials: int) -> dict:
    service = ServiceProcess("tuning", workdir, max_parallel=PARALLEL).start()
    try:
        rss = PeakRss(service.process.pid)
        rss.start()
        cpu_before = cpu_seconds(service.process.pid)
        started = time.perf_counter()
        requests.post(f"{service.url}/api/v1/experiments", json=echo_experiment("scale", trials, PARALLEL),
                      timeout=60).raise_for_status()
        while not finished(body := status(service, "scale")):
            time.sleep(0.5)
        wall = time.perf_counter() - started
        cpu = cpu_seconds(service.process.pid) - cpu_before
        peak = rss.stop()
    finally:
        service.stop()
    direct = direct_echo_seconds()
    cores = os.cpu_count() or 1
    per_trial = wall / trials
    return {
        "trials": trials, "parallel": PARALLEL, "cores": cores, "succeeded": body["status"]["trialsSucceeded"],
        "wall_seconds": round(wall, 3), "trials_per_second": round(trials / wall, 2),
        "wall_per_trial_seconds": round(per_trial, 6), "direct_command_seconds": round(direct, 6),
        "overhead_per_trial_seconds": round(per_trial - direct / min(PARALLEL, cores), 6),
        "service_cpu_per_trial_seconds": round(cpu / trials, 6),
        "load_average_1m_after": os.getloadavg()[0],
        "service_peak_rss_mb": peak,
    }


def concurrent_experiments(workdir: Path) -> dict:
    service = ServiceProcess("tuning", workdir, max_parallel=PARALLEL).start()
    names = [f"crowd-{index:02d}" for index in range(CONCURRENT_EXPERIMENTS)]
    counts = {name: 0 for name in names}
    last_progress = {}
    gaps = {name: 0.0 for name in names}
    done: set[str] = set()
    try:
        started = time.perf_counter()
        for name in names:
            requests.post(f"{service.url}/api/v1/experiments", timeout=60,
                          json=echo_experiment(name, CONCURRENT_TRIALS, CONCURRENT_PARALLEL)).raise_for_status()
        last_progress = {name: time.perf_counter() for name in names}
        while len(done) < len(names):
            now = time.perf_counter()
            for item in requests.get(f"{service.url}/api/v1/experiments", timeout=60).json()["items"]:
                name = item["metadata"]["name"]
                if name in done:
                    continue
                completed = item["status"]["trials"] - item["status"]["trialsPending"] - item["status"]["trialsRunning"]
                if completed > counts[name]:
                    counts[name], last_progress[name] = completed, now
                gaps[name] = max(gaps[name], now - last_progress[name])
                if finished(item):
                    done.add(name)
            time.sleep(0.1)
        wall = time.perf_counter() - started
    finally:
        service.stop()
    return {
        "experiments": CONCURRENT_EXPERIMENTS, "trials_each": CONCURRENT_TRIALS, "parallel_each": CONCURRENT_PARALLEL,
        "runner_slots": PARALLEL, "wall_seconds": round(wall, 3),
        "longest_gap_without_progress_seconds": summarize(list(gaps.values())),
        "reconcile_interval_seconds": RECONCILE_SECONDS,
        "all_finished": len(done) == len(names),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tuning-scale-") as tmp:
        result = {
            "many_trials": many_trials(Path(tmp) / "many", args.trials),
            "concurrent_experiments": concurrent_experiments(Path(tmp) / "crowd"),
        }
    write_result("tuning_scale", result)


if __name__ == "__main__":
    main()
