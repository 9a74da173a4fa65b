"""Canary rollout benchmark, in one run on local mode (writes bench/results/canary.json):

1. detection: ~100 req/s through nginx; a canary whose model fails 5 % of its inferences goes through
   the rollout driver; time from the start of its first step to weight 0. Goal: within 3 analysis intervals.
2. false rollbacks: 20 rollouts of a healthy canary (one analysed step at 50 %), same traffic. Goal: zero.
3. serving overhead: p50/p99 latency and throughput at ~100 req/s through nginx, direct to the stable
   MLServer, and raw in-process sklearn predict (the floor). Goal: nginx adds at most 15 % to p50.

Usage: .venv/bin/python bench/canary.py [--healthy-runs 20] [--rate 100]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from common import summarize, write_result  # (common puts the project on sys.path)

from mlplatform.canary.local import LocalTarget
from mlplatform.canary.plan import RolloutPlan
from mlplatform.canary.rollout import ABORTED, run_rollout
from mlplatform.serving.traffic import Traffic
from tests.support.faulty_runtime import IMPLEMENTATION, save_faulty_model
from tests.support.local_fixtures import IRIS_ROW, inference_request, save_iris_model, start_local_platform

STABLE = "s3://models/iris/1"
# Short analyses, so 20 healthy runs fit in minutes: a check every 2 s, 3 per step, one may fail.
ANALYSIS = {"intervalSeconds": 2, "iterations": 3, "failureLimit": 1, "minRequests": 10,
            "minSuccessRate": 0.99, "maxLatencyP99Seconds": 0.5, "maxLatencyRatio": 3}
LATENCY_SECONDS = 20
IN_PROCESS_CALLS = 2000


def reset(platform) -> None:
    platform.apply({"modelServer": {"models": [{"name": "iris", "uri": STABLE}],
                                    "canary": {"enabled": False, "weight": 0, "models": [], "analysis": ANALYSIS}}})


def timed_rollout(platform, candidate: str, steps: tuple[int, ...]) -> tuple[object, dict]:
    """One rollout through the driver, with the time each progress line was printed."""
    target = LocalTarget(platform.state_dir)
    plan = RolloutPlan.build(target.values(), f"s3://models/iris/{candidate}", "iris", steps,
                             implementation=IMPLEMENTATION)
    marks: dict[str, float] = {}

    def progress(line: str) -> None:
        marks.setdefault("started", time.monotonic())
        if "analysing the canary" in line:
            marks.setdefault("analysing", time.monotonic())   # the canary serves: its model loaded, weight set
        if line.startswith("aborting"):
            marks["aborting"] = time.monotonic()

    report = run_rollout(target, plan, progress)
    marks["finished"] = time.monotonic()
    return report, marks


def detection(platform, rate: float) -> dict:
    url = platform.url("model-server") + "/v2/models/iris/infer"
    with Traffic(url, inference_request(), rate=rate):
        time.sleep(3)                                     # stable has traffic before the step starts
        report, marks = timed_rollout(platform, "errors", (25, 50, 100))
    weight = LocalTarget(platform.state_dir).weight()
    reset(platform)
    seconds = marks["finished"] - marks["started"]
    failed = report.results[-1]
    return {"outcome": report.outcome, "weight_after": weight, "aborted_at_step_weight": failed.weight,
            "seconds_to_weight_0": round(seconds, 3),
            "analysis_intervals": round(seconds / ANALYSIS["intervalSeconds"], 2),
            "seconds_to_abort_decision": round(marks["aborting"] - marks["started"], 3),
            "seconds_loading_the_canary": round(marks["analysing"] - marks["started"], 3),
            "analysis_intervals_from_canary_serving": round(
                (marks["finished"] - marks["analysing"]) / ANALYSIS["intervalSeconds"], 2),
            "checks_run": len((failed.analysis or {}).get("checks", [])), "reason": failed.reason,
            "goal": "weight 0 within 3 analysis intervals",
            "goal_met": report.outcome == ABORTED and weight == 0
            and seconds <= 3 * ANALYSIS["intervalSeconds"]}


def false_rollbacks(platform, rate: float, runs: int) -> dict:
    url = platform.url("model-server") + "/v2/models/iris/infer"
    outcomes, reasons, durations = [], [], []
    with Traffic(url, inference_request(), rate=rate) as traffic:
        time.sleep(3)
        for _ in range(runs):
            report, marks = timed_rollout(platform, "healthy", (50,))
            outcomes.append(report.outcome)
            durations.append(marks["finished"] - marks["started"])
            if report.outcome != "holding":
                reasons.append(report.reason)
            reset(platform)
        stats = traffic.stats()
    rolled_back = sum(outcome != "holding" for outcome in outcomes)
    return {"runs": runs, "false_rollbacks": rolled_back, "reasons": reasons, "step_seconds": summarize(durations),
            "client_error_rate": round(stats.error_rate, 5), "goal": "zero false rollbacks",
            "goal_met": rolled_back == 0}


def measure(url: str, rate: float) -> dict:
    with Traffic(url, inference_request(), rate=rate) as traffic:
        time.sleep(LATENCY_SECONDS)
    stats = traffic.stats()
    latencies = sorted(sample.latency for sample in stats.samples)
    return {"requests": stats.total, "errors": stats.errors, "p50_ms": round(stats.percentile(0.5) * 1000, 3),
            "p99_ms": round(stats.percentile(0.99) * 1000, 3),
            "throughput_rps": round(stats.total / LATENCY_SECONDS, 1), "mean_ms": round(
                1000 * sum(latencies) / len(latencies), 3) if latencies else None}


def in_process(model_dir: Path) -> dict:
    import joblib
    import numpy as np

    model = joblib.load(model_dir / "model.joblib")
    row = np.array([IRIS_ROW])
    samples = []
    for _ in range(IN_PROCESS_CALLS):
        started = time.perf_counter()
        model.predict(row)
        samples.append(time.perf_counter() - started)
    samples.sort()
    return {"calls": IN_PROCESS_CALLS, "p50_ms": round(samples[len(samples) // 2] * 1000, 4),
            "p99_ms": round(samples[int(0.99 * len(samples))] * 1000, 4),
            "throughput_rps": round(IN_PROCESS_CALLS / sum(samples), 1)}


def overhead(platform, rate: float, model_dir: Path) -> dict:
    path = "/v2/models/iris/infer"
    nginx = measure(platform.url("model-server") + path, rate)
    direct = measure(platform.url("model-server-stable") + path, rate)
    floor = in_process(model_dir)
    added = nginx["p50_ms"] / direct["p50_ms"] - 1 if direct["p50_ms"] else None
    return {"through_nginx": nginx, "direct_mlserver": direct, "in_process_sklearn": floor,
            "ratios": {"nginx_over_direct_p50": round(nginx["p50_ms"] / direct["p50_ms"], 3),
                       "nginx_over_direct_p99": round(nginx["p99_ms"] / direct["p99_ms"], 3),
                       "direct_over_in_process_p50": round(direct["p50_ms"] / floor["p50_ms"], 1),
                       "nginx_over_in_process_p50": round(nginx["p50_ms"] / floor["p50_ms"], 1)},
            "goal": "nginx adds at most 15% to p50", "goal_met": added is not None and added <= 0.15}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--healthy-runs", type=int, default=20)
    parser.add_argument("--rate", type=float, default=100.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-canary-") as workdir:
        workdir = Path(workdir)
        platform = start_local_platform(workdir / "state", components=("model-server", "prometheus"))
        try:
            stable_dir = save_iris_model(workdir / "stable")
            platform.upload_directory(stable_dir, STABLE)
            for name, faults in {"healthy": {}, "errors": {"error_rate": 0.05}}.items():
                platform.upload_directory(save_faulty_model(workdir / name, **faults), f"s3://models/iris/{name}")
            reset(platform)
            result = {"settings": {"rate_rps": args.rate, "analysis": ANALYSIS, "scrape_interval_seconds": 1.0,
                                   "latency_seconds_per_path": LATENCY_SECONDS, "cpus_shared": True},
                      "detection": detection(platform, args.rate),
                      "false_rollbacks": false_rollbacks(platform, args.rate, args.healthy_runs),
                      "overhead": overhead(platform, args.rate, stable_dir)}
        finally:
            platform.down()
    write_result("canary", result)


if __name__ == "__main__":
    main()
