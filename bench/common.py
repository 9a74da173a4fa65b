"""Shared by the benchmarks: timing statistics and the JSON result file each one writes."""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parent / "results"
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def summarize(samples: list[float]) -> dict:
    """Seconds -> {n, min, median, mean, p90, max}, rounded to the microsecond."""
    ordered = sorted(samples)
    p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
    return {key: round(value, 6) for key, value in {
        "n": len(ordered), "min": ordered[0], "median": statistics.median(ordered),
        "mean": statistics.fmean(ordered), "p90": p90, "max": ordered[-1],
    }.items()}


def write_result(name: str, result: dict) -> Path:
    """Write bench/results/<name>.json with the machine it ran on, and print it."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    document = {
        "benchmark": name,
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        **result,
    }
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps(document, indent=2, sort_keys=False) + "\n")
    print(json.dumps(document, indent=2))
    return path
