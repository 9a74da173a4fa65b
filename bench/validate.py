"""Time `mlp validate --local` on a healthy local platform (the goal: at most 15 s).

Starts the platform with `mlp local up` in a scratch state directory (outside the timing), runs
validate once to warm up, then RUNS times as a user would (a new process each time, imports included),
and stops the platform. Every timed run must pass: a failing platform is not a benchmark.
Usage: python bench/validate.py [runs]   -> bench/results/validate.json
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import summarize, write_result

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 5
GOAL_SECONDS = 15.0
MLP = [sys.executable, "-c", "from mlplatform.cli import main; main()"]


def validate(state_dir: Path) -> tuple[float, dict]:
    started = time.perf_counter()
    result = subprocess.run([*MLP, "validate", "--local", "--state-dir", str(state_dir), "--output", "json"],
                            capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    report = json.loads(result.stdout) if result.stdout.strip().startswith("{") else {}
    if result.returncode != 0:
        failures = [f"{r['component']} ({r['check']}): {r['detail']}" for r in report.get("results", [])
                    if r["status"] == "failed"]
        raise SystemExit(f"validate failed on the benchmark platform: {failures or result.stderr.strip()}")
    return elapsed, report


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        state_dir = Path(scratch) / "state"
        subprocess.run([*MLP, "local", "up", "--state-dir", str(state_dir)], check=True)
        try:
            validate(state_dir)  # warm-up: the first run fills caches (and Prometheus' first scrapes)
            samples, report = [], {}
            for _ in range(RUNS):
                elapsed, report = validate(state_dir)
                samples.append(elapsed)
        finally:
            subprocess.run([*MLP, "local", "down", "--state-dir", str(state_dir)], check=False)
    stats = summarize(samples)
    write_result("validate", {
        "command": "mlp validate --local", "runs": RUNS, "seconds": stats, "goal_seconds": GOAL_SECONDS,
        "meets_goal": stats["max"] <= GOAL_SECONDS, "checks": report.get("counts"),
        "per_check_seconds": {r["check"]: r["seconds"] for r in report.get("results", [])},
    })


if __name__ == "__main__":
    main()
