"""Katib-shaped views: trial tallies, the best trial, and the Experiment and Trial objects the API returns."""

from __future__ import annotations

import time
from dataclasses import dataclass

from mlplatform.tuning.spec import API_VERSION, Experiment, Objective
from mlplatform.tuning.store import ExperimentRecord, Phase, TrialRecord, TrialState
from mlplatform.tuning.trials import EXPERIMENT_LABEL, render


@dataclass
class Tally:
    """Trial names by state, and the counts Katib's completion rules use."""

    names: dict[TrialState, list[str]]
    metrics_unavailable: list[str]

    @classmethod
    def of(cls, trials: list[TrialRecord]) -> Tally:
        names = {state: [] for state in TrialState}
        for trial in trials:
            names[trial.state].append(trial.name)
        return cls(names, names[TrialState.METRICS_UNAVAILABLE])

    def count(self, state: TrialState) -> int:
        return len(self.names[state])

    @property
    def total(self) -> int:
        return sum(len(names) for names in self.names.values())

    @property
    def active(self) -> int:
        return self.count(TrialState.PENDING) + self.count(TrialState.RUNNING)

    @property
    def completed(self) -> int:
        return self.total - self.active


def best_trial(trials: list[TrialRecord], objective: Objective) -> TrialRecord | None:
    """The trial with the best objective value (the earliest among equals); as in Katib, every trial that
    has one counts, early-stopped ones too."""
    best = None
    for trial in trials:
        if trial.state not in (TrialState.SUCCEEDED, TrialState.EARLY_STOPPED) or trial.objective is None:
            continue
        if best is None or objective.better(trial.objective, best.objective):
            best = trial
    return best


def timestamp(epoch: float | None) -> str | None:
    return None if epoch is None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def _condition(kind: str, status: bool, reason: str, message: str, when: float | None) -> dict:
    moment = timestamp(when)
    return {
        "type": kind,
        "status": "True" if status else "False",
        "reason": reason,
        "message": message,
        "lastUpdateTime": moment,
        "lastTransitionTime": moment,
    }


def experiment_object(record: ExperimentRecord, experiment: Experiment, trials: list[TrialRecord]) -> dict:
    """The Experiment as Katib shows it: the manifest with defaults, plus its status."""
    manifest = dict(record.manifest)
    manifest["metadata"] = {
        **manifest["metadata"],
        "uid": record.uid,
        "creationTimestamp": timestamp(record.created_at),
    }
    manifest["status"] = _experiment_status(record, experiment, trials)
    return manifest


def _experiment_status(record: ExperimentRecord, experiment: Experiment, trials: list[TrialRecord]) -> dict:
    tally = Tally.of(trials)
    conditions = [
        _condition("Created", True, "ExperimentCreated", "Experiment is created", record.created_at)
    ]
    if record.started_at is not None:
        running = record.phase is Phase.RUNNING
        conditions.append(
            _condition(
                "Running",
                running,
                record.reason if running else "ExperimentRunning",
                record.message if running else "Experiment is running",
                record.started_at if running else record.completed_at,
            )
        )
    if record.phase.finished:
        conditions.append(
            _condition(record.phase.value, True, record.reason, record.message, record.completed_at)
        )
    best = best_trial(trials, experiment.objective)
    return {
        "startTime": timestamp(record.created_at),
        "completionTime": timestamp(record.completed_at),
        "conditions": conditions,
        "currentOptimalTrial": {
            "bestTrialName": best.name if best else "",
            "parameterAssignments": best.assignments if best else [],
            "observation": {"metrics": (best.observation or []) if best else []},
        },
        "pendingTrialList": tally.names[TrialState.PENDING],
        "runningTrialList": tally.names[TrialState.RUNNING],
        "succeededTrialList": tally.names[TrialState.SUCCEEDED],
        "failedTrialList": tally.names[TrialState.FAILED],
        "earlyStoppedTrialList": tally.names[TrialState.EARLY_STOPPED],
        "killedTrialList": tally.names[TrialState.KILLED],
        "metricsUnavailableTrialList": tally.metrics_unavailable,
        "trials": tally.total,
        "trialsPending": tally.count(TrialState.PENDING),
        "trialsRunning": tally.count(TrialState.RUNNING),
        "trialsSucceeded": tally.count(TrialState.SUCCEEDED),
        "trialsFailed": tally.count(TrialState.FAILED),
        "trialsEarlyStopped": tally.count(TrialState.EARLY_STOPPED),
        "trialsKilled": tally.count(TrialState.KILLED),
        "trialMetricsUnavailable": len(tally.metrics_unavailable),
    }


def trial_object(trial: TrialRecord, experiment: Experiment) -> dict:
    """A Katib Trial: its assignments, what it ran, its conditions and its observation."""
    conditions = [_condition("Created", True, "TrialCreated", "Trial is created", trial.created_at)]
    if trial.started_at is not None:
        running = trial.state is TrialState.RUNNING
        conditions.append(
            _condition(
                "Running",
                running,
                "TrialRunning",
                "Trial is running",
                trial.started_at if running else trial.completed_at,
            )
        )
    if trial.state.finished:
        conditions.append(
            _condition(trial.state.value, True, trial.reason, trial.message, trial.completed_at)
        )
    manifest_spec = experiment.manifest["spec"]
    status = {
        "startTime": timestamp(trial.started_at),
        "completionTime": timestamp(trial.completed_at),
        "conditions": conditions,
        "observation": {"metrics": trial.observation or []},
    }
    if trial.run_id:
        status["runId"] = trial.run_id
    return {
        "apiVersion": API_VERSION,
        "kind": "Trial",
        "metadata": {
            "name": trial.name,
            "namespace": experiment.namespace,
            "creationTimestamp": timestamp(trial.created_at),
            "labels": {EXPERIMENT_LABEL: experiment.name},
        },
        "spec": {
            "objective": manifest_spec["objective"],
            "parameterAssignments": trial.assignments,
            "primaryContainerName": experiment.template.primary_container,
            "metricsCollector": manifest_spec["metricsCollectorSpec"],
            "runSpec": render(experiment, trial),
        },
        "status": status,
    }
