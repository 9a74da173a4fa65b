"""Benchmark the tuning service (`mlp serve tuning`, local runner) in one run:

1. overhead per trial: the service running a trivial trial command, against the same command run directly;
2. the service against a plain Optuna ask-and-tell loop (same TPE sampler, same command per trial);
3. quality: TPE on Branin, 60 trials, 5 seeds, best value at the end (global minimum 0.397887);
4. speed-up from parallelTrialCount 2 on a 1-second objective.

Goals: overhead <= 0.1 s per trial; TPE's median best within 0.1 of the optimum.
Usage: python bench/tuning.py  -> bench/results/tuning.json
"""

from __future__ import annotations

import math
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
from common import summarize, write_result  # (common puts the project on sys.path)

from tests.support.service_process import ServiceProcess

BRANIN_MINIMUM = 0.397887
OVERHEAD_TRIALS = 40
QUALITY_TRIALS, QUALITY_SEEDS = 60, 5
SPEEDUP_TRIALS = 8

TRIVIAL = "import sys; print('loss=' + sys.argv[1])"
BRANIN = (
    "import math, sys; x1, x2 = float(sys.argv[1]), float(sys.argv[2]);"
    "b, c, t = 5.1 / (4 * math.pi ** 2), 5 / math.pi, 1 / (8 * math.pi);"
    "print('loss=%r' % ((x2 - b * x1 ** 2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10))"
)
SLEEP_ONE_SECOND = "import sys, time; time.sleep(1); print('loss=' + sys.argv[1])"


def experiment(
    name: str,
    code: str,
    *,
    algorithm: str,
    trials: int,
    parallel: int = 1,
    seed: int = 0,
    branin: bool = False,
) -> dict:
    """A Katib Experiment whose trial runs `python -c code <parameters>`."""
    if branin:
        parameters = [
            {"name": "x1", "parameterType": "double", "feasibleSpace": {"min": "-5", "max": "10"}},
            {"name": "x2", "parameterType": "double", "feasibleSpace": {"min": "0", "max": "15"}},
        ]
    else:
        parameters = [{"name": "x1", "parameterType": "double", "feasibleSpace": {"min": "0", "max": "1"}}]
    return {
        "apiVersion": "kubeflow.org/v1beta1",
        "kind": "Experiment",
        "metadata": {"name": name},
        "spec": {
            "objective": {"type": "minimize", "objectiveMetricName": "loss"},
            "algorithm": {
                "algorithmName": algorithm,
                "algorithmSettings": [{"name": "random_state", "value": str(seed)}],
            },
            "parallelTrialCount": parallel,
            "maxTrialCount": trials,
            "maxFailedTrialCount": 0,
            "parameters": parameters,
            "trialTemplate": {
                "primaryContainerName": "main",
                "trialParameters": [{"name": p["name"], "reference": p["name"]} for p in parameters],
                "trialSpec": {
                    "apiVersion": "batch/v1",
                    "kind": "Job",
                    "spec": {
                        "template": {
                            "spec": {
                                "restartPolicy": "Never",
                                "containers": [
                                    {
                                        "name": "main",
                                        "image": "python:3.11-slim",
                                        "command": [
                                            sys.executable,
                                            "-c",
                                            code,
                                            *(f"${{trialParameters.{p['name']}}}" for p in parameters),
                                        ],
                                    }
                                ],
                            }
                        }
                    },
                },
            },
        },
    }


class Service(ServiceProcess):
    def __init__(self, workdir: Path, max_parallel: int):
        super().__init__("tuning", workdir, max_parallel=max_parallel)
        self.start()

    def run(self, manifest: dict) -> tuple[float, dict]:
        """Submit and wait: the seconds from submission to the final condition, and the experiment."""
        name = manifest["metadata"]["name"]
        started = time.perf_counter()
        response = requests.post(f"{self.url}/api/v1/experiments", json=manifest, timeout=30)
        response.raise_for_status()
        while True:
            body = requests.get(f"{self.url}/api/v1/experiments/{name}", timeout=30).json()
            if any(
                c["type"] in ("Succeeded", "Failed") and c["status"] == "True"
                for c in body["status"]["conditions"]
            ):
                return time.perf_counter() - started, body
            time.sleep(0.02)

    def submit(self, manifest: dict) -> None:
        requests.post(f"{self.url}/api/v1/experiments", json=manifest, timeout=30).raise_for_status()

    def wait(self, name: str) -> dict:
        while True:
            body = requests.get(f"{self.url}/api/v1/experiments/{name}", timeout=30).json()
            if any(
                c["type"] in ("Succeeded", "Failed") and c["status"] == "True"
                for c in body["status"]["conditions"]
            ):
                return body
            time.sleep(0.1)



def best(body: dict) -> float:
    metrics = body["status"]["currentOptimalTrial"]["observation"]["metrics"]
    return float(next(m["min"] for m in metrics if m["name"] == "loss"))


def direct_runs(code: str, runs: int) -> list[float]:
    samples = []
    for index in range(runs):
        started = time.perf_counter()
        output = subprocess.run(
            [sys.executable, "-c", code, str(index / runs)], check=True, capture_output=True, text=True
        ).stdout
        float(output.split("=")[1])
        samples.append(time.perf_counter() - started)
    return samples


def optuna_loop(code: str, trials: int, storage) -> float:
    """Seconds per trial of a plain ask-and-tell loop running the same command through subprocess."""
    import optuna
    from optuna.distributions import FloatDistribution

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(storage=storage, sampler=optuna.samplers.TPESampler(seed=0))
    started = time.perf_counter()
    for _ in range(trials):
        trial = study.ask({"x1": FloatDistribution(0, 1)})
        output = subprocess.run(
            [sys.executable, "-c", code, repr(trial.params["x1"])], check=True, capture_output=True, text=True
        ).stdout
        study.tell(trial, float(output.split("=")[1]))
    return (time.perf_counter() - started) / trials


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-tuning-") as scratch:
        workdir = Path(scratch)
        service = Service(workdir, max_parallel=QUALITY_SEEDS)
        try:
            service.run(experiment("warm-up", TRIVIAL, algorithm="random", trials=3))

            direct = direct_runs(TRIVIAL, OVERHEAD_TRIALS)
            wall, body = service.run(
                experiment("overhead", TRIVIAL, algorithm="random", trials=OVERHEAD_TRIALS)
            )
            assert body["status"]["trialsSucceeded"] == OVERHEAD_TRIALS, body["status"]
            service_per_trial = wall / OVERHEAD_TRIALS
            overhead = service_per_trial - statistics.fmean(direct)

            tpe_wall, _ = service.run(
                experiment("versus-optuna", TRIVIAL, algorithm="tpe", trials=OVERHEAD_TRIALS)
            )
            loop_memory = optuna_loop(TRIVIAL, OVERHEAD_TRIALS, storage=None)
            loop_sqlite = optuna_loop(TRIVIAL, OVERHEAD_TRIALS, storage=f"sqlite:///{workdir / 'loop.db'}")

            for seed in range(QUALITY_SEEDS):
                service.submit(
                    experiment(
                        f"branin-tpe-{seed}",
                        BRANIN,
                        algorithm="tpe",
                        trials=QUALITY_TRIALS,
                        seed=seed,
                        branin=True,
                    )
                )
            bests = [best(service.wait(f"branin-tpe-{seed}")) for seed in range(QUALITY_SEEDS)]

            serial, _ = service.run(
                experiment("serial", SLEEP_ONE_SECOND, algorithm="random", trials=SPEEDUP_TRIALS)
            )
            parallel, _ = service.run(
                experiment(
                    "parallel", SLEEP_ONE_SECOND, algorithm="random", trials=SPEEDUP_TRIALS, parallel=2
                )
            )
        finally:
            service.stop()

    median_best = statistics.median(bests)
    write_result(
        "tuning",
        {
            "overhead": {
                "trials": OVERHEAD_TRIALS,
                "direct_command_seconds": summarize(direct),
                "service_seconds_per_trial": round(service_per_trial, 6),
                "overhead_seconds_per_trial": round(overhead, 6),
                "goal_seconds": 0.1,
                "goal_met": overhead <= 0.1,
            },
            "versus_optuna_loop": {
                "sampler": "TPESampler(seed=0), the same trial command per trial",
                "service_seconds_per_trial": round(tpe_wall / OVERHEAD_TRIALS, 6),
                "optuna_in_memory_seconds_per_trial": round(loop_memory, 6),
                "optuna_sqlite_seconds_per_trial": round(loop_sqlite, 6),
                "service_minus_sqlite_loop_seconds": round(tpe_wall / OVERHEAD_TRIALS - loop_sqlite, 6),
            },
            "quality_tpe_branin": {
                "trials": QUALITY_TRIALS,
                "seeds": list(range(QUALITY_SEEDS)),
                "best_values": [round(value, 6) for value in bests],
                "median_best": round(median_best, 6),
                "global_minimum": BRANIN_MINIMUM,
                "gap": round(median_best - BRANIN_MINIMUM, 6),
                "goal_gap": 0.1,
                "goal_met": math.isfinite(median_best) and median_best - BRANIN_MINIMUM <= 0.1,
            },
            "parallel_speedup": {
                "trials": SPEEDUP_TRIALS,
                "objective_seconds": 1.0,
                "parallel_1_seconds": round(serial, 3),
                "parallel_2_seconds": round(parallel, 3),
                "speedup": round(serial / parallel, 3),
            },
        },
    )


if __name__ == "__main__":
    main()
