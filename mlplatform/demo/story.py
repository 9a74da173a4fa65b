"""The fraud-detection story, step by step, through the same public interfaces a user has:
`mlp local ...`, kfp.Client, the tuning service's HTTP API, the model registry, `mlp canary ... --local`
and `mlp validate --local`.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import click
import requests

from mlplatform.endpoints import Endpoints
from mlplatform.errors import DependencyError, MlpError

Step = Callable[["DemoContext"], str]


@dataclass
class DemoContext:
    state_dir: Path
    work_dir: Path
    endpoints: Endpoints | None = None
    facts: dict = field(default_factory=dict)   # what the steps learned, for the summary


def mlp(*args: str, timeout: float = 600) -> str:
    """Run an `mlp` command as a user would; a failure raises with its last lines."""
    completed = subprocess.run([sys.executable, "-m", "mlplatform.cli", *args], capture_output=True, text=True,
                               check=False, timeout=timeout)
    if completed.returncode != 0:
        tail = "\n".join((completed.stderr or completed.stdout).strip().splitlines()[-5:])
        raise MlpError(f"`mlp {' '.join(args)}` failed (exit {completed.returncode}): {tail}")
    return completed.stdout


def run_steps(steps: list[tuple[str, Step]], context: DemoContext) -> list[dict]:
    """Run each step with progress; stop at the first failure, naming the step."""
    results = []
    for number, (title, step) in enumerate(steps, start=1):
        click.echo(f"[{number}/{len(steps)}] {title} ...")
        started = time.monotonic()
        try:
            outcome = step(context)
        except MlpError as error:
            raise MlpError(f"demo step {number} ({title}) failed: {error}") from error
        except requests.RequestException as error:
            raise DependencyError(f"demo step {number} ({title}) failed: {error}") from error
        seconds = time.monotonic() - started
        click.echo(f"      {outcome}  ({seconds:.1f}s)")
        results.append({"step": title, "outcome": outcome, "seconds": round(seconds, 1)})
    return results


def write_summary(context: DemoContext, results: list[dict]) -> Path:
    summary = {"steps": results, "facts": context.facts,
               "endpoints": context.endpoints.services if context.endpoints else {}}
    path = context.state_dir / "demo-summary.json"
    path.write_text(json.dumps(summary, indent=2) + "\n")
    return path
