"""Time `helm template` of the umbrella chart with values/prod.yaml on helm 3 and helm 4.

Each helm renders the staged charts (dependencies built once, outside the timing) a few times to
warm up, then RUNS times; the result holds the timing statistics and the size of the render.
Usage: python bench/render.py [runs]   -> bench/results/render.json
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import summarize, write_result

from mlplatform.tools import helm_binary
from mlplatform.values import charts

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 20
WARMUP = 3


def time_renders(major: int, staged: Path) -> dict:
    helm = helm_binary(major)
    render = charts.Render(charts.UMBRELLA, (charts.environment_values("prod"),))
    command = [str(helm), *render.args(staged)]
    for _ in range(WARMUP):
        subprocess.run(command, check=True, capture_output=True)
    samples, manifest = [], ""
    for _ in range(RUNS):
        started = time.perf_counter()
        manifest = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        samples.append(time.perf_counter() - started)
    version = subprocess.run([str(helm), "version", "--short"], check=True, capture_output=True, text=True).stdout.strip()
    return {"helm": version, "seconds": summarize(samples), "objects": len(charts.objects(manifest)),
            "manifest_bytes": len(manifest.encode())}


def main() -> None:
    results = {}
    with tempfile.TemporaryDirectory() as scratch:
        for major in (3, 4):
            staged = charts.stage(Path(scratch) / f"helm{major}", helm_binary(major))
            results[f"helm{major}"] = time_renders(major, staged)
    write_result("render", {"chart": charts.UMBRELLA, "values": "values/prod.yaml", "runs": RUNS,
                            "warmup": WARMUP, "results": results})


if __name__ == "__main__":
    main()
