"""Local replicas: each replica is a process of the local runner, on 127.0.0.1 with free ports.

Each replica runs its default container's command and args (`$(VAR)` expanded as the kubelet does)
with the template's literal env plus the operator's (topology.py), in its own directory
`<state-dir>/<task>/` with its output in `output.log`. The platform's Python comes first on PATH, so
`python` and `torchrun` are the ones with torch (the `[training]` extra).

Gang start: a job starts only when the runner has a free slot for every replica, so all start together
(a job with more replicas than `--max-parallel` is refused at create). A restart restarts the whole gang
with fresh ports: a new rendezvous, as torchrun's elastic agent does, rather than one process joining
a group that is already gone.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

from mlplatform.net import free_port
from mlplatform.runners.base import TaskNotFound, TaskSpec, TaskState
from mlplatform.runners.local import LocalRunner
from mlplatform.training.engine import ReplicaEngine, ReplicaState
from mlplatform.training.spec import TrainingJob
from mlplatform.training.store import JobRecord
from mlplatform.training.topology import Replica, default_container, environment, replicas

HOST = "127.0.0.1"
_VARIABLE = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)")
_PHASES = {TaskState.PENDING: "Pending", TaskState.RUNNING: "Running", TaskState.SUCCEEDED: "Succeeded",
           TaskState.FAILED: "Failed", TaskState.CANCELLED: "Failed"}


class LocalReplicas(ReplicaEngine):
    def __init__(self, state_dir: Path, max_parallel: int):
        self.runner = LocalRunner(state_dir, max_parallel=max_parallel)
        self.max_parallel = max_parallel

    def problems(self, job: TrainingJob) -> list[str]:
        found = []
        if job.total_replicas > self.max_parallel:
            found.append(f"the job has {job.total_replicas} replicas and they must all run at once, but local mode "
                         f"runs at most {self.max_parallel} (mlp serve training --max-parallel)")
        for spec in job.replica_specs:
            container = default_container(job, spec.template)
            if not container.get("command") and not container.get("args"):
                found.append(f"spec.{job.flavour.replica_key}.{spec.type}: the {job.flavour.container} container "
                             "needs a command: local mode runs it without the image's entrypoint")
        return found

    def can_start(self, job: TrainingJob) -> bool:
        return self._busy() + job.total_replicas <= self.max_parallel

    def _busy(self) -> int:
        count = 0
        for name in self.runner.names():
            try:
                count += not self.runner.status(name).state.finished
            except TaskNotFound:
                continue
        return count

    def start(self, job: TrainingJob, record: JobRecord) -> None:
        members = replicas(job)
        ports = {replica.pod_name(job.name): free_port(HOST) for replica in members}
        record.runtime["ports"] = ports
        address = lambda replica: (HOST, ports[replica.pod_name(job.name)])
        for replica in members:
            self.runner.start(self._task(job, record, replica, environment(job, replica, address)))

    def _task(self, job: TrainingJob, record: JobRecord, replica: Replica, operator_env: dict) -> TaskSpec:
        container = default_container(job, job.replica_spec(replica.type).template)
        env = {item["name"]: str(item["value"]) for item in container.get("env") or [] if "value" in item}
        env.update(operator_env)
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
        argv = [_expand(arg, env) for arg in (container.get("command") or []) + (container.get("args") or [])]
        workdir = container.get("workingDir")
        return TaskSpec(name=task_name(record, replica), command=argv, env=env,
                        workdir=workdir if workdir and Path(workdir).is_dir() else None)

    def observe(self, job: TrainingJob, record: JobRecord) -> dict[Replica, ReplicaState]:
        return {replica: self.observe_one(record, replica) for replica in replicas(job)}

    def observe_one(self, record: JobRecord, replica: Replica) -> ReplicaState:
        try:
            status = self.runner.status(task_name(record, replica))
        except TaskNotFound:
            return ReplicaState("Failed", message="the replica's process is gone")
        return ReplicaState(_PHASES[status.state], status.exit_code, message=status.message)

    def restart(self, job: TrainingJob, record: JobRecord, failed: list[Replica]) -> None:
        for replica in replicas(job):
            self.runner.cancel(task_name(record, replica, record.runtime["attempt"] - 1))
        self.start(job, record)

    def stop(self, job: TrainingJob, record: JobRecord, remove: bool) -> None:
        for attempt in range(1, record.runtime.get("attempt", 0) + 1):
            for replica in replicas(job):
                name = task_name(record, replica, attempt)
                try:
                    if remove or not self.runner.status(name).state.finished:
                        self.runner.delete(name)
                except TaskNotFound:
                    continue

    def log_of(self, record: JobRecord, replica: Replica) -> tuple[str, bool]:
        """The replica's output so far, and whether it has finished."""
        name = task_name(record, replica)
        try:
            finished = self.runner.status(name).state.finished   # first: the text read after it is complete
            return self.runner.logs(name), finished
        except TaskNotFound:
            return "", True

    def task_dir(self, record: JobRecord, replica: Replica) -> Path:
        return self.runner.state_dir / task_name(record, replica)

    def close(self) -> None:
        self.runner.close()


def task_name(record: JobRecord, replica: Replica, attempt: int | None = None) -> str:
    """`r<uid prefix>-<attempt>-<type>-<index>` (the current attempt by default): unique across namespaces
    and attempts, and a DNS label."""
    attempt = record.runtime["attempt"] if attempt is None else attempt
    return f"r{record.uid[:8]}-{attempt}-{replica.type.lower()}-{replica.index}"


def _expand(text: str, env: dict[str, str]) -> str:
    return _VARIABLE.sub(lambda match: env.get(match.group(1), match.group(0)), text)
