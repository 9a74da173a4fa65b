"""The runner interface: how pipeline tasks and tuning trials are executed.

A runner starts a named task (a command, its environment and resources), reports its state, waits
for it, returns its logs and cancels it. `local` runs subprocesses; `kubernetes` runs one Job per task.
Callers own scheduling policy (DAG order, parallelism limits); the runner owns execution.

Names are unique per runner and double as Kubernetes Job names, so they must be DNS-1123 labels.
A restarted caller re-attaches to its tasks by name: `status(name)` works across restarts.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from enum import Enum

NAME_PATTERN = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


class TaskState(str, Enum):
    PENDING = "PENDING"      # accepted, waiting for a slot or for the cluster to schedule it
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"

    @property
    def finished(self) -> bool:
        return self in (TaskState.SUCCEEDED, TaskState.FAILED, TaskState.CANCELLED)


class TaskNotFound(LookupError):
    """The runner has no task of that name (never started, deleted, or lost with its state)."""


@dataclass(frozen=True)
class Resources:
    """Kubernetes-style quantities ("500m", "1Gi"); applied on Kubernetes, recorded locally."""

    cpu_request: str | None = None
    cpu_limit: str | None = None
    memory_request: str | None = None
    memory_limit: str | None = None
    accelerator_type: str | None = None   # e.g. "nvidia.com/gpu"
    accelerator_count: int | None = None


@dataclass(frozen=True)
class TaskSpec:
    name: str
    command: list[str]                    # the full argv: container command followed by its args
    image: str = ""                       # the container image (Kubernetes only)
    env: dict[str, str] = field(default_factory=dict)
    workdir: str | None = None            # local: the working directory (default: the task's own directory)
    resources: Resources | None = None
    labels: dict[str, str] = field(default_factory=dict)
    timeout_seconds: float | None = None  # the task fails with reason DeadlineExceeded after this
    # Kubernetes only: a complete batch/v1 Job to create as given (a Katib trialSpec, say), with
    # metadata.name set to `name` and `labels` added. The local runner always runs `command`.
    job_manifest: dict | None = None
    # Kubernetes only: a pipeline launcher manifest (JSON, see mlplatform.pipelines.launcher). The Job
    # then downloads input artifacts before the command and uploads its outputs after it, from the
    # platform image, so the task's own image needs nothing of ours.
    artifact_staging: str | None = None
    # Kubernetes only: the task's kfp-kubernetes settings (KubernetesExecutorConfig JSON, names resolved;
    # see mlplatform.runners.kfp_platform).
    platform_config: dict | None = None

    def __post_init__(self):
        if not NAME_PATTERN.match(self.name):
            raise ValueError(f"task name {self.name!r} is not a DNS-1123 label (lowercase, digits, '-', <= 63)")
        if not self.command:
            raise ValueError(f"task {self.name}: command is empty")


@dataclass
class TaskStatus:
    state: TaskState
    exit_code: int | None = None
    reason: str = ""                      # Completed, Error, DeadlineExceeded, Cancelled, Lost, ...
    message: str = ""
    started_at: float | None = None       # epoch seconds
    finished_at: float | None = None


class Runner(ABC):
    """Executes tasks. Implementations must be safe to call from several threads."""

    kind: str = ""

    @abstractmethod
    def start(self, spec: TaskSpec) -> None:
        """Accept a task and return at once. Starting a name that already exists raises ValueError."""

    @abstractmethod
    def status(self, name: str) -> TaskStatus:
        """The task's current state; raises TaskNotFound for an unknown name."""

    @abstractmethod
    def wait(self, name: str, timeout: float | None = None) -> TaskStatus:
        """Block until the task finishes or `timeout` seconds pass; returns the state at that point."""

    @abstractmethod
    def logs(self, name: str) -> str:
        """Everything the task wrote to stdout and stderr so far."""

    @abstractmethod
    def cancel(self, name: str) -> None:
        """Stop the task; it ends CANCELLED. Cancelling a finished task does nothing."""

    @abstractmethod
    def delete(self, name: str) -> None:
        """Forget the task and remove what it left (process state, Job, logs)."""

    def names(self) -> list[str]:
        """The names of the tasks this runner knows (for re-attaching after a restart)."""
        return []

    def queue_depth(self) -> int:
        """Tasks accepted but not yet running."""
        return 0

    def close(self) -> None:
        """Release resources; running tasks keep running."""
