"""The Engine: one scheduler thread drives every active run; watcher threads wait on runner tasks.

All decisions about a run happen on the scheduler thread, one run at a time, so no two threads ever
change the same run. Other threads only post events: a runner task finished, a run was created or
terminated, a retry backoff elapsed.

Restart: `start()` re-attaches to the runner tasks of every run that was in flight (the runner knows
them by name), treats attempts the runner no longer knows as failed (retried when the task allows),
and resubmits attempts that were accepted but never started. Then it reconciles every active run.
"""

from __future__ import annotations

import logging
import queue
import re
import threading
import time
import uuid
from pathlib import Path

from mlplatform.pipelines.artifacts import ArtifactRoot
from mlplatform.pipelines.engine.cache import cache_key
from mlplatform.pipelines.engine.dag import FINAL, RunDriver, dag_outputs, finish
from mlplatform.pipelines.engine.executor_input import runtime_artifact
from mlplatform.pipelines.engine.launch import command_for, environment_of, read_outputs, resources_of
from mlplatform.pipelines.engine.layout import TaskFiles, make_layout
from mlplatform.pipelines.errors import FailedPrecondition
from mlplatform.pipelines.ir.placeholders import RunContext
from mlplatform.pipelines.ir.spec import PipelineIR, TaskRef
from mlplatform.pipelines.store import Run, Store, Task
from mlplatform.runners.base import Runner, TaskNotFound, TaskSpec, TaskState, TaskStatus

log = logging.getLogger("mlplatform.pipelines")

_IDLE_SECONDS = 1.0
_LOG_TAIL_CHARS = 2000
_RUN_FINAL = ("SUCCEEDED", "FAILED", "CANCELED")


class Engine:
    def __init__(self, store: Store, runner: Runner, root: ArtifactRoot, work_dir: Path, metrics=None):
        self.store = store
        self.runner = runner
        self.root = root
        self.layout = make_layout(runner.kind, root, work_dir)
        self.metrics = metrics
        self._events: queue.Queue = queue.Queue()
        self._wakeups: dict[str, float] = {}
        self._irs: dict[str, PipelineIR] = {}
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="pipeline-scheduler", daemon=True)
        self.alive = False

    # --- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        self._resume()
        self._thread.start()
        self.alive = True

    def stop(self) -> None:
        self._stopped.set()
        self._events.put(None)
        self._thread.join(timeout=10)
        self.runner.close()

    def ready(self) -> str | None:
        if not self._thread.is_alive():
            return "the scheduler thread is not running"
        return self.store.ping()

    # --- requests from the API ----------------------------------------------------------------

    def submit(self, run_id: str) -> None:
        self._events.put(("reconcile", run_id))

    def terminate(self, run_id: str) -> None:
        run = self.store.get_run(run_id)
        if run.state in _RUN_FINAL:
            return
        self.store.update_run(run_id, cancel_requested=True)
        self.store.set_run_state(run, "CANCELING")
        self.submit(run_id)

    def retry(self, run_id: str) -> None:
        """Run the failed and cancelled parts of a finished run again; what succeeded is kept."""
        run = self.store.get_run(run_id)
        if run.state not in ("FAILED", "CANCELED"):
            raise FailedPrecondition(
                f"run {run_id} is {run.state}; only FAILED or CANCELED runs can be retried"
            )
        for row in self.store.tasks_of(run_id):
            if row.state in ("FAILED", "CANCELED"):
                reset_for_retry(row)
                self.store.save_task(row)
        self.store.update_run(run_id, cancel_requested=False, finished_at=None, error="")
        self.store.set_run_state(run, "RUNNING")
        self.submit(run_id)

    def delete(self, run_id: str) -> None:
        """Stop what still runs, then forget the run and its tasks."""
        done = threading.Event()
        self._events.put(("delete", run_id, done))
        done.wait(timeout=60)

    # --- the scheduler ------------------------------------------------------------------------

    def _loop(self) -> None:
        while not self._stopped.is_set():
            dirty: set[str] = set()
            event = self._next_event()
            while event is not None:
                self._apply(event, dirty)
                try:
                    event = self._events.get_nowait()
                except queue.Empty:
                    event = None
            now = time.time()
            for run_id, due in list(self._wakeups.items()):
                if due <= now:
                    del self._wakeups[run_id]
                    dirty.add(run_id)
            for run_id in dirty:
                self._reconcile_safely(run_id)

    def _next_event(self):
        timeout = _IDLE_SECONDS
        if self._wakeups:
            timeout = max(0.0, min(timeout, min(self._wakeups.values()) - time.time()))
        try:
            return self._events.get(timeout=timeout)
        except queue.Empty:
            return None

    def _apply(self, event, dirty: set[str]) -> None:
        kind, run_id = event[0], event[1]
        try:
            if kind == "finished":
                self._attempt_finished(run_id, *event[2:])
            elif kind == "delete":
                self._delete(run_id)
                event[2].set()
                return
        except Exception:
            log.exception("pipeline controller: handling %s of run %s failed", kind, run_id)
        dirty.add(run_id)

    def _reconcile_safely(self, run_id: str) -> None:
        try:
            self._reconcile(run_id)
        except Exception as error:
            log.exception("pipeline controller: run %s failed in the controller", run_id)
            try:
                run = self.store.get_run(run_id)
                if run.state not in _RUN_FINAL:
                    self.store.set_run_state(
                        run, "FAILED", f"controller error: {type(error).__name__}: {error}"
                    )
            except Exception:
                log.exception("pipeline controller: cannot mark run %s failed", run_id)

    def _reconcile(self, run_id: str) -> None:
        run = self.store.get_run(run_id)
        if run.state in _RUN_FINAL:
            return
        rows = self.store.tasks_of(run_id)
        if run.cancel_requested:
            self._cancel(run, rows)
            return
        if run.state == "PENDING":
            self.store.set_run_state(run, "RUNNING")
        ir = self.ir_of(run)
        settled = RunDriver(self, run, ir, rows).drive_root()
        if settled is not None:
            outputs = dag_outputs(ir.root, {row.path: row for row in self.store.tasks_of(run_id)}.get)
            self.store.update_run(run_id, outputs=outputs)
            self.store.set_run_state(run, settled.state, settled.error)
            self._irs.pop(run_id, None)
            if self.metrics:
                self.metrics.run_finished(settled.state)

    def ir_of(self, run: Run) -> PipelineIR:
        if run.id not in self._irs:
            self._irs[run.id] = PipelineIR(run.pipeline_spec)
        return self._irs[run.id]

    def wake_at(self, run_id: str, when: float) -> None:
        self._wakeups[run_id] = min(when, self._wakeups.get(run_id, when))

    # --- executor tasks -----------------------------------------------------------------------

    def context_for(self, run: Run, row: Task) -> RunContext:
        return RunContext(
            job_name=run.display_name,
            job_resource_name=f"run-{run.id}",
            job_id=run.id,
            task_name=row.name,
            task_id=row.id,
            pipeline_root=self.root.uri(run.id),
            create_time=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(run.created_at)),
        )

    def advance_executor(self, run: Run, row: Task, task: TaskRef, ir: PipelineIR) -> None:
        if row.state != "PENDING":
            return
        component = ir.component(row.component)
        executor = ir.executor(component["executorLabel"])
        if row.attempt == 0 and self._reuse_cached(row, task, component, executor):
            return
        if row.next_attempt_at and row.next_attempt_at > time.time():
            self.wake_at(run.id, row.next_attempt_at)
            return
        self._start_attempt(run, row, task, component, executor["container"])

    def _reuse_cached(self, row: Task, task: TaskRef, component: dict, executor: dict) -> bool:
        row.cache_key = cache_key(
            task.spec, component, executor, row.inputs.get("parameters", {}), row.inputs.get("artifacts", {})
        )
        if not row.cache_key:
            return False
        hit = self.store.cached_task(row.cache_key)
        if hit is None or not all(
            self.root.exists(item["uri"])
            for items in hit.outputs.get("artifacts", {}).values()
            for item in items
        ):
            return False
        row.outputs, row.cached_from = hit.outputs, hit.id
        row.log = f"cached: outputs reused from task {hit.id} of run {hit.run_id}\n"
        finish(row, "SUCCEEDED")
        self.store.save_task(row)
        if self.metrics:
            self.metrics.task_finished("SUCCEEDED", None, cached=True)
        return True

    def _start_attempt(self, run: Run, row: Task, task: TaskRef, component: dict, container: dict) -> None:
        row.attempt += 1
        output_uris = {
            name: self.root.uri(run.id, row.path, name)
            for name in component.get("outputDefinitions", {}).get("artifacts", {})
        }
        files = self.layout.prepare(
            row.id,
            row.attempt,
            component,
            row.inputs.get("parameters", {}),
            row.inputs.get("artifacts", {}),
            output_uris,
            run.id,
        )
        spec = TaskSpec(
            name=runner_name(row),
            command=command_for(
                container, files, self.context_for(run, row), local=self.runner.kind == "local"
            ),
            image=container.get("image", ""),
            env=environment_of(container),
            resources=resources_of(container),
            labels={"mlplatform.io/run-id": run.id, "mlplatform.io/task-id": row.id},
            artifact_staging=files.staging.to_json() if files.staging else None,
        )
        row.runner_name, row.state, row.next_attempt_at = spec.name, "RUNNING", None
        row.started_at = row.started_at or time.time()
        row.launch = {
            "outputs_dir": files.outputs_dir,
            "stored_uris": files.stored_uris,
            "output_uris": output_uris,
            "retry": task.spec.get("retryPolicy", {}),
            "attempt_started_at": time.time(),
        }
        row.state_history = list(row.state_history or []) + [
            {"state": "RUNNING", "at": time.time(), "error": f"attempt {row.attempt}"}
        ]
        self.store.save_task(row)  # before starting: a crash in between leaves a name to look for
        try:
            self.runner.start(spec)
        except Exception as error:
            self._attempt_failed(row, f"the runner could not start the task: {error}")
            self.store.save_task(row)
            return
        self._watch(run.id, row.id, spec.name)

    def _watch(self, run_id: str, task_id: str, name: str) -> None:
        def wait() -> None:
            while not self._stopped.is_set():
                try:
                    status = self.runner.wait(name, timeout=30)
                except TaskNotFound:
                    status = TaskStatus(TaskState.FAILED, reason="Lost", message="the runner lost the task")
                if status.state.finished:
                    self._events.put(("finished", run_id, task_id, name, status))
                    return

        threading.Thread(target=wait, name=f"watch-{name}", daemon=True).start()

    def _attempt_finished(self, run_id: str, task_id: str, name: str, status: TaskStatus) -> None:
        row = self.store.get_task(run_id, task_id)
        if row.runner_name != name or row.state != "RUNNING":
            return  # cancelled, or an attempt we already gave up on
        row.log = (row.log or "") + f"--- attempt {row.attempt} ({name}) ---\n" + self._logs(name)
        if status.state == TaskState.SUCCEEDED:
            try:
                files = TaskFiles(
                    {}, row.launch["outputs_dir"], stored_uris=row.launch.get("stored_uris", {})
                )
                component = self.ir_of(self.store.get_run(run_id)).component(row.component)
                row.outputs = read_outputs(self.root, files, component, row.launch.get("output_uris", {}))
                finish(row, "SUCCEEDED")
            except Exception as error:
                self._attempt_failed(row, f"cannot read the task's outputs: {error}")
        elif status.state == TaskState.CANCELLED:
            finish(row, "CANCELED", "cancelled")
        else:
            reason = f"{status.reason}: {status.message}".strip(": ") or "failed"
            self._attempt_failed(row, reason)
        self.store.save_task(row)
        self._forget(name)
        if self.metrics and row.state in FINAL:
            started = row.launch.get("attempt_started_at")
            self.metrics.task_finished(row.state, time.time() - started if started else None)

    def _attempt_failed(self, row: Task, reason: str) -> None:
        """Schedule the next attempt when the retry policy allows one, else fail the task."""
        policy = (row.launch or {}).get("retry") or {}
        if row.attempt <= int(policy.get("maxRetryCount", 0) or 0):
            delay = backoff_seconds(policy, row.attempt)
            row.state, row.next_attempt_at = "PENDING", time.time() + delay
            row.state_history = list(row.state_history or []) + [
                {
                    "state": "FAILED",
                    "at": time.time(),
                    "error": f"attempt {row.attempt}: {reason}; retry in {delay:g}s",
                }
            ]
            self.wake_at(row.run_id, row.next_attempt_at)
            return
        tail = (row.log or "")[-_LOG_TAIL_CHARS:].strip()
        finish(row, "FAILED", reason + (f"\n{tail}" if tail else ""))

    def _logs(self, name: str) -> str:
        try:
            return self.runner.logs(name)
        except Exception as error:
            return f"(logs unavailable: {error})\n"

    def _forget(self, name: str) -> None:
        try:
            self.runner.delete(name)
        except Exception:
            log.warning("pipeline controller: cannot delete runner task %s", name)

    def run_importer(self, run: Run, row: Task, component: dict) -> None:
        importer = self.ir_of(run).executor(component["executorLabel"])["importer"]
        source = importer.get("artifactUri", {})
        if "runtimeParameter" in source:
            uri = row.inputs.get("parameters", {}).get(source["runtimeParameter"], "")
        else:
            uri = source.get("constant", "")
        artifact = runtime_artifact("artifact", importer.get("typeSchema", {}), uri, importer.get("metadata"))
        row.outputs = {"parameters": {}, "artifacts": {"artifact": [artifact]}}
        finish(row, "SUCCEEDED")

    # --- cancel, delete, resume ---------------------------------------------------------------

    def _cancel(self, run: Run, rows: list[Task]) -> None:
        running = [row.runner_name for row in rows if row.kind == "executor" and row.state == "RUNNING"]
        for row in rows:
            if row.state not in FINAL:
                finish(row, "CANCELED", "the run was terminated")
                self.store.save_task(row)
        self.store.set_run_state(run, "CANCELED", "terminated by request")
        if self.metrics:
            self.metrics.run_finished("CANCELED")
        for name in running:  # stopping processes can take seconds: not on the scheduler thread
            threading.Thread(target=self._cancel_runner_task, args=(name,), daemon=True).start()

    def _cancel_runner_task(self, name: str) -> None:
        try:
            self.runner.cancel(name)
            self.runner.delete(name)
        except Exception:
            log.warning("pipeline controller: cannot cancel runner task %s", name)

    def _delete(self, run_id: str) -> None:
        rows = self.store.tasks_of(run_id)
        for row in rows:
            if row.kind == "executor" and row.state == "RUNNING":
                self._cancel_runner_task(row.runner_name)
        self.store.delete_run(run_id)
        self._irs.pop(run_id, None)
        self._wakeups.pop(run_id, None)

    def _resume(self) -> None:
        for run_id in self.store.active_run_ids():
            for row in self.store.tasks_of(run_id):
                if row.kind == "executor" and row.state == "RUNNING" and row.runner_name:
                    self._reattach(row)
            self.submit(run_id)

    def _reattach(self, row: Task) -> None:
        name = row.runner_name
        try:
            status = self.runner.status(name)
        except TaskNotFound:
            lost = TaskStatus(
                TaskState.FAILED,
                reason="Lost",
                message=f"the runner has no task {name} after the controller restarted",
            )
            self._events.put(("finished", row.run_id, row.id, name, lost))
            return
        if status.reason == "Lost" and status.started_at is None:
            # Accepted but never started before the restart: start the same attempt again.
            self._forget(name)
            row.state, row.attempt, row.runner_name = "PENDING", row.attempt - 1, ""
            self.store.save_task(row)
            return
        self._watch(row.run_id, row.id, name)


def reset_for_retry(row: Task) -> None:
    row.state = "PENDING" if row.kind == "executor" else "RUNNING"
    row.attempt = 0 if row.kind == "executor" else row.attempt
    row.error, row.finished_at, row.next_attempt_at = "", None, None
    row.state_history = list(row.state_history or []) + [
        {"state": row.state, "at": time.time(), "error": "retry"}
    ]


def backoff_seconds(policy: dict, attempt: int) -> float:
    """KFP retry backoff: backoffDuration * backoffFactor^(attempt-1), at most backoffMaxDuration."""
    base = _seconds(policy.get("backoffDuration", "0s"))
    factor = float(policy.get("backoffFactor", 2.0) or 2.0)
    ceiling = _seconds(policy.get("backoffMaxDuration", "3600s")) or 3600.0
    return min(base * factor ** max(attempt - 1, 0), ceiling)


def _seconds(duration) -> float:
    if isinstance(duration, (int, float)):
        return float(duration)
    match = re.fullmatch(r"\s*([0-9.]+)\s*s?\s*", str(duration or "0s"))
    return float(match.group(1)) if match else 0.0


def runner_name(row: Task) -> str:
    """A DNS-1123 label, unique per attempt: the task's name plus a random suffix."""
    slug = re.sub(r"[^a-z0-9-]+", "-", row.name.lower()).strip("-")[:40] or "task"
    return f"{slug}-{uuid.uuid4().hex[:12]}"
