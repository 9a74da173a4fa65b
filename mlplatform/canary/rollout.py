"""The canary rollout driver: one step loop over two targets, a Helm release and local mode.

    target = ReleaseTarget(context, chart)       # or LocalTarget(state_dir)
    plan = RolloutPlan.build(target.values(), "3", None, (10, 25, 50, 100), current=target.current())
    report = run_rollout(target, plan, progress=click.echo)

Each step applies the plan's values for its weight (a `helm upgrade`, or local mode's equivalent) and
is gated by the canary analysis: in a release the post-upgrade `canary-analysis` hook (a failed hook
makes `helm upgrade --atomic` roll the step back), in local mode `analyse()` run by the target. A
failed step, or Ctrl-C, aborts: one more change to weight 0 with the canary off and its models
removed. When the last step is 100 % and passed, the canary is promoted: the stable track serves its
models, canary off.

A target has: `name`, `values()` (what a change starts from), `current()` (what runs now, defaults
included), `apply_step(values, label, progress) -> StepOutcome`,
`apply(values, label, progress) -> revision | None` (promote and abort), `weight()`, and `revisions()`
(a release's history; none in local mode).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol

from mlplatform.canary.plan import RolloutPlan
from mlplatform.errors import MlpError

Progress = Callable[[str], None]

PROMOTED, ABORTED, HOLDING, ABORT_FAILED = "promoted", "aborted", "holding", "abort-failed"


class RolloutAborted(MlpError):
    """A step failed its analysis (or could not be applied) and the traffic went back to stable."""

    exit_code = 1


@dataclass
class StepOutcome:
    passed: bool
    reason: str
    revision: int | None = None
    analysis: dict | None = None


class Target(Protocol):
    name: str

    def values(self) -> dict: ...

    def current(self) -> dict: ...

    def apply_step(self, values: dict, label: str, progress: Progress) -> StepOutcome: ...

    def apply(self, values: dict, label: str, progress: Progress) -> int | None: ...

    def weight(self) -> int: ...

    def revisions(self) -> list[dict]: ...


@dataclass
class StepRecord:
    step: int
    weight: int
    passed: bool
    reason: str
    seconds: float
    revision: int | None = None
    analysis: dict | None = None


@dataclass
class RolloutReport:
    target: str
    model: str
    uri: str
    steps: list[int]
    results: list[StepRecord] = field(default_factory=list)
    outcome: str = ""
    reason: str = ""
    final_revision: int | None = None
    started: float = field(default_factory=time.time)
    seconds: float = 0.0

    def finish(self, outcome: str, reason: str, revision: int | None) -> RolloutReport:
        self.outcome, self.reason, self.final_revision = outcome, reason, revision
        self.seconds = round(time.time() - self.started, 3)
        return self

    def to_dict(self) -> dict:
        return asdict(self)

    def write(self, path: Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n")
        return path

    def summary(self) -> str:
        passed = sum(result.passed for result in self.results)
        head = f"rollout of {self.model} ({self.uri}) on {self.target}: {self.outcome}"
        return f"{head} after {passed}/{len(self.steps)} steps passed in {self.seconds:.1f}s: {self.reason}"


def run_rollout(target: Target, plan: RolloutPlan, progress: Progress = print) -> RolloutReport:
    """Step through the plan's weights; abort at the first failed step; promote after a passed 100 %."""
    report = RolloutReport(target=target.name, model=plan.model, uri=plan.uri, steps=list(plan.steps))
    for index, weight in enumerate(plan.steps, 1):
        label = f"step {index}/{len(plan.steps)} weight {weight}%"
        record = _run_step(target, plan.step_values(weight), index, weight, label, progress)
        report.results.append(record)
        if not record.passed:
            return _abort(target, plan, report, f"{label} failed: {record.reason}", progress)
    if not plan.promotes:
        reason = f"the canary holds at {plan.steps[-1]}%: run `mlp canary promote` or `mlp canary abort`"
        return report.finish(HOLDING, reason, report.results[-1].revision)
    progress(f"promoting: the stable track now serves {plan.uri}")
    revision = target.apply(plan.promote_values(), "promote", progress)
    return report.finish(PROMOTED, f"every step passed; {plan.model} now serves {plan.uri}", revision)


def _run_step(target: Target, values: dict, index: int, weight: int, label: str, progress: Progress) -> StepRecord:
    progress(f"{label}: upgrading…")
    started = time.monotonic()
    try:
        outcome = target.apply_step(values, label, progress)
    except MlpError as error:
        outcome = StepOutcome(False, str(error))
    except KeyboardInterrupt:   # Ctrl-C fails the step, so the traffic goes back to stable
        outcome = StepOutcome(False, "interrupted (Ctrl-C)")
    progress(f"{label}: " + ("passed" if outcome.passed else f"failed: {outcome.reason}"))
    return StepRecord(step=index, weight=weight, passed=outcome.passed, reason=outcome.reason,
                      seconds=round(time.monotonic() - started, 3), revision=outcome.revision,
                      analysis=outcome.analysis)


def _abort(target: Target, plan: RolloutPlan, report: RolloutReport, reason: str, progress: Progress) -> RolloutReport:
    progress("aborting: traffic back to stable (weight 0, canary off)")
    try:
        revision = target.apply(plan.abort_values(), "abort", progress)
    except MlpError as error:
        report.finish(ABORT_FAILED, f"{reason}; the abort failed too: {error}", None)
        error.report = report   # the CLI still writes what happened
        raise
    return report.finish(ABORTED, reason, revision)
