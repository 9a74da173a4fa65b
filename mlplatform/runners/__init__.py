"""Task execution for pipeline tasks and tuning trials. See `base.py` for the interface."""

from __future__ import annotations

from pathlib import Path

from mlplatform.errors import ConfigError
from mlplatform.runners.base import Resources, Runner, TaskNotFound, TaskSpec, TaskState, TaskStatus

RUNNER_KINDS = ("local", "kubernetes")

__all__ = ["RUNNER_KINDS", "Resources", "Runner", "TaskNotFound", "TaskSpec", "TaskState", "TaskStatus", "make_runner"]


def make_runner(kind: str, *, state_dir: str | Path = ".", max_parallel: int = 4, **kubernetes_options) -> Runner:
    """The runner for `--runner local|kubernetes`.

    local:      subprocesses, state under `state_dir`, at most `max_parallel` at once.
    kubernetes: one Job per task; `kubernetes_options` go to KubernetesRunner (namespace, api_client, ...).
    """
    if kind == "local":
        from mlplatform.runners.local import LocalRunner

        return LocalRunner(state_dir, max_parallel=max_parallel)
    if kind == "kubernetes":
        from mlplatform.runners.kubernetes import KubernetesRunner

        return KubernetesRunner(**kubernetes_options)
    raise ConfigError(f"unknown runner {kind!r}; choose one of {', '.join(RUNNER_KINDS)}")
