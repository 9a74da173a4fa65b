"""The operator's one model: jobs in the store, their replicas on an engine, and the reconcile loop that
moves each job through Created, Running, Restarting, Succeeded and Failed as the Training Operator does.

- Start: a job starts when the replica engine can start every replica at once (gang start); locally
  that means free slots for all of them, in a cluster the replicas wait for each other (kubernetes.py).
- Success: PyTorchJob when the Master succeeds (all Workers, without a Master); TFJob when the Chief or
  Master succeeds, else worker 0 (successPolicy AllWorkers: every worker).
- Failure of a replica: restartPolicy Never fails the job; ExitCode restarts on a retryable exit code
  (128 and above: killed by a signal) and fails on any other; OnFailure and Always restart. Each
  restart counts against runPolicy.backoffLimit.
- Gang timeout (a cluster's replicas): a replica still unscheduled that long after its attempt started
  fails the job, its replicas removed, rather than leaving the others waiting in a rendezvous.
- runPolicy.activeDeadlineSeconds fails a job running longer; cleanPodPolicy (None, Running, All)
  decides which replicas stop or go when the job ends; ttlSecondsAfterFinished deletes the job.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass

from mlplatform.kubeapi import Invalid
from mlplatform.training import status as conditions
from mlplatform.training.spec import FLAVOURS, TrainingJob, parse_job
from mlplatform.training.store import JobRecord, Store
from mlplatform.training.topology import Replica

log = logging.getLogger("mlplatform.training.engine")
RETRYABLE_EXIT_CODE = 128


@dataclass(frozen=True)
class ReplicaState:
    phase: str                    # Pending, Running, Succeeded, Failed (as a Pod's phase)
    exit_code: int | None = None
    restarts: int = 0             # container restarts done in place (a kubelet's, in a cluster)
    message: str = ""
    scheduled: bool = True        # a pending replica's pod has a node (pulling images, in its init containers)


class ReplicaEngine(ABC):
    """Where replicas run: local processes (local.py) or Jobs and Services (kubernetes.py)."""

    gang_timeout: int | None = None   # seconds every replica has to start; None: they start together

    def problems(self, job: TrainingJob) -> list[str]:
        """Why this engine can never run the job (refused at create); empty when it can."""
        return []

    def can_start(self, job: TrainingJob) -> bool:
        return True

    @abstractmethod
    def start(self, job: TrainingJob, record: JobRecord) -> None:
        """Start every replica of the attempt `record.runtime['attempt']`."""

    @abstractmethod
    def observe(self, job: TrainingJob, record: JobRecord) -> dict[Replica, ReplicaState]: ...

    @abstractmethod
    def restart(self, job: TrainingJob, record: JobRecord, failed: list[Replica]) -> None: ...

    @abstractmethod
    def stop(self, job: TrainingJob, record: JobRecord, remove: bool) -> None:
        """Remove the running replicas (cleanPodPolicy Running); `remove` also the finished ones (All)."""

    def close(self) -> None:
        pass


class Engine:
    def __init__(self, store: Store, replicas: ReplicaEngine, interval: float = 0.2):
        self.store = store
        self.replicas = replicas
        self.interval = interval
        self._lock = threading.RLock()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="training-engine", daemon=True)

    # --- the API's verbs -----------------------------------------------------------------------------

    def create(self, job: TrainingJob, uid: str | None = None) -> JobRecord:
        """Store a parsed job (JobExists when the name is taken) with its Created condition. `uid`: the
        job's object in a cluster, which the controller adopted."""
        problems = self.replicas.problems(job)
        if problems:
            raise Invalid(f"{job.kind} {job.namespace}/{job.name} cannot run here: " + "; ".join(problems), problems)
        metadata = job.manifest["metadata"]
        metadata["uid"] = uid or str(uuid.uuid4())
        metadata["creationTimestamp"] = conditions.timestamp()
        metadata["generation"] = 1
        record = JobRecord(job.kind, job.namespace, job.name, metadata["uid"], job.manifest,
                           runtime={"attempt": 0, "restarts": 0, "adopted": uid is not None})
        conditions.set_condition(record.status, conditions.CREATED, job.kind,
                                 f"{job.kind} {job.namespace}/{job.name} is created.")
        with self._lock:
            self.store.create(record)
        return record

    def delete(self, record: JobRecord) -> None:
        with self._lock:
            current = self.store.get(*record.key)
            if current is None or current.uid != record.uid:
                return
            if current.runtime.get("attempt"):   # as stored now: the loop may have restarted the replicas
                self.replicas.stop(self._job(current), current, remove=True)
            self.store.delete(current)

    def update_metadata(self, record: JobRecord, labels: dict | None, annotations: dict | None) -> JobRecord:
        with self._lock:
            current = self.store.get(*record.key) or record
            for key, value in (("labels", labels), ("annotations", annotations)):
                if value is None:
                    current.manifest["metadata"].pop(key, None)
                else:
                    current.manifest["metadata"][key] = value
            self.store.save(current)
            return current

    def not_ready(self) -> str | None:
        self.store.ping()
        return None if self._thread.is_alive() else "the reconcile loop is not running"

    # --- the loop ------------------------------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=10)
        self.replicas.close()

    def _run(self) -> None:
        while not self._stopped.is_set():
            try:
                self.sync()
            except Exception:
                log.exception("reconciling training jobs failed; retrying")
            self._stopped.wait(self.interval)

    def sync(self) -> None:
        for record in self.store.jobs():
            with self._lock:
                current = self.store.get(*record.key)
                if current is None or current.uid != record.uid:
                    continue
                try:
                    self.reconcile(current)
                except Exception:
                    log.exception("job %s %s/%s", current.kind, current.namespace, current.name)

    def reconcile(self, record: JobRecord) -> None:
        if record.finished:
            self._expire(record)
            return
        job = self._job(record)
        before = (repr(record.status), repr(record.runtime), record.finished)
        if not record.runtime.get("attempt"):
            self._maybe_start(job, record)
        else:
            self._follow(job, record)
        if (repr(record.status), repr(record.runtime), record.finished) != before:
            self.store.save(record)

    def _job(self, record: JobRecord) -> TrainingJob:
        return parse_job(record.manifest, FLAVOURS[record.kind])

    def _maybe_start(self, job: TrainingJob, record: JobRecord) -> None:
        if not self.replicas.can_start(job):
            return
        record.runtime["attempt"] = 1
        record.status["startTime"] = conditions.timestamp()
        record.runtime["started_at"] = time.time()
        self.replicas.start(job, record)

    def _follow(self, job: TrainingJob, record: JobRecord) -> None:
        states = self.replicas.observe(job, record)
        record.status["replicaStatuses"] = conditions.replica_statuses(job, states)
        what = f"{job.kind} {job.namespace}/{job.name}"
        deadline = job.run_policy.active_deadline_seconds
        if deadline is not None and time.time() - record.runtime["started_at"] > deadline:
            self._finish(job, record, conditions.FAILED,
                         f"{what} has failed because it was active longer than specified deadline", deadline=True)
        elif _succeeded(job, states):
            self._finish(job, record, conditions.SUCCEEDED, f"{what} successfully completed.")
        elif failed := [replica for replica, state in states.items() if state.phase == "Failed"]:
            self._on_failure(job, record, failed, states)
        elif unscheduled := self._past_gang_timeout(record, states):
            self._finish(job, record, conditions.FAILED,
                         f"{what} has failed because {', '.join(unscheduled)} were not scheduled within the gang timeout "
                         f"of {self.replicas.gang_timeout}s", deadline=True)
        else:
            self._count_in_place_restarts(job, record, states)

    def _past_gang_timeout(self, record: JobRecord, states: dict[Replica, ReplicaState]) -> list[str]:
        """The replicas still unscheduled once the gang timeout passed (a slow image pull is no reason to
        fail); a job whose replicas were all scheduled is up."""
        if record.runtime.get("gang_up") or self.replicas.gang_timeout is None:
            return []
        waiting = [f"{r.type.lower()}-{r.index}" for r, state in states.items() if not state.scheduled]
        if not waiting:
            record.runtime["gang_up"] = True
            return []
        waited = time.time() - record.runtime.get("attempt_started_at", record.runtime["started_at"])
        return waiting if waited > self.replicas.gang_timeout else []

    def _on_failure(self, job: TrainingJob, record: JobRecord, failed: list[Replica], states: dict) -> None:
        what = f"{job.kind} {job.namespace}/{job.name}"
        permanent = [r for r in failed if not _restartable(job, r, states[r])]
        if permanent:
            names = ", ".join(f"{r.type.lower()}-{r.index} (exit code {states[r].exit_code})" for r in permanent)
            self._finish(job, record, conditions.FAILED, f"{what} has failed because {names} failed.")
            return
        if self._past_backoff_limit(job, record, 1):
            return
        record.runtime["restarts"] += 1
        record.runtime["attempt"] += 1
        record.runtime.update(gang_up=False, attempt_started_at=time.time())
        self.replicas.restart(job, record, failed)
        names = ", ".join(f"{r.type.lower()}-{r.index}" for r in failed)
        conditions.set_condition(record.status, conditions.RESTARTING, job.kind,
                                 f"{what} is restarting because {names} failed.")

    def _count_in_place_restarts(self, job: TrainingJob, record: JobRecord, states: dict) -> None:
        restarts = sum(state.restarts for state in states.values())
        if restarts > record.runtime.get("in_place_restarts", 0):
            record.runtime["in_place_restarts"] = restarts
            if self._past_backoff_limit(job, record, 0):
                return
            conditions.set_condition(record.status, conditions.RESTARTING, job.kind,
                                     f"{job.kind} {job.namespace}/{job.name} is restarting.")
        elif states and all(state.phase in ("Running", "Succeeded") for state in states.values()):
            conditions.set_condition(record.status, conditions.RUNNING, job.kind,
                                     f"{job.kind} {job.namespace}/{job.name} is running.")

    def _past_backoff_limit(self, job: TrainingJob, record: JobRecord, coming: int) -> bool:
        limit = job.run_policy.backoff_limit
        done = record.runtime["restarts"] + record.runtime.get("in_place_restarts", 0) + coming
        if limit is None or done <= limit:
            return False
        self._finish(job, record, conditions.FAILED,
                     f"{job.kind} {job.namespace}/{job.name} has failed because it has reached the specified "
                     f"backoff limit ({limit})")
        return True

    def _finish(self, job: TrainingJob, record: JobRecord, kind: str, message: str, deadline: bool = False) -> None:
        """The final condition (reason <Kind>Succeeded or <Kind>Failed, as the operator writes it); the
        replicas stop as cleanPodPolicy says, and always when the deadline passed."""
        policy = job.run_policy.clean_pod_policy
        if policy != "None" or deadline:
            self.replicas.stop(job, record, remove=policy == "All")
        conditions.set_condition(record.status, kind, job.kind, message)
        record.status["completionTime"] = conditions.timestamp()
        record.runtime["finished_at"] = time.time()
        record.finished = True
        log.info("%s", message)

    def _expire(self, record: JobRecord) -> None:
        ttl = record.manifest["spec"]["runPolicy"].get("ttlSecondsAfterFinished")   # validated at create
        if ttl is not None and time.time() - record.runtime.get("finished_at", time.time()) >= ttl:
            log.info("%s %s/%s: ttlSecondsAfterFinished passed; deleting it", record.kind, record.namespace,
                     record.name)
            self.delete(record)


def _restartable(job: TrainingJob, replica: Replica, state: ReplicaState) -> bool:
    policy = job.replica_spec(replica.type).restart_policy
    if policy == "ExitCode":
        return state.exit_code is not None and state.exit_code >= RETRYABLE_EXIT_CODE
    return policy in ("OnFailure", "Always")


def _succeeded(job: TrainingJob, states: dict[Replica, ReplicaState]) -> bool:
    def done(replica_type: str, index: int | None = None) -> bool:
        chosen = [s for r, s in states.items() if r.type == replica_type and (index is None or r.index == index)]
        return bool(chosen) and all(s.phase == "Succeeded" for s in chosen)

    types = {spec.type for spec in job.replica_specs}
    if job.kind == "PyTorchJob":
        return done("Master") if "Master" in types else done("Worker")
    for leader in ("Chief", "Master"):
        if leader in types:
            return done(leader)
    all_workers = (job.manifest["spec"].get("successPolicy") or "") == "AllWorkers"
    return done("Worker", None if all_workers else 0)
