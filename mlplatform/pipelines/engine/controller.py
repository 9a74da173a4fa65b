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
from pathlib import Path

from mlplatform.pipelines.artifacts import ArtifactRoot
from mlplatform.pipelines.engine.attempts import ExecutorTasks
from mlplatform.pipelines.engine.dag import RunDriver, dag_outputs
from mlplatform.pipelines.engine.layout import Layout, make_layout
from mlplatform.pipelines.engine.schedule import next_fire
from mlplatform.pipelines.engine.states import FINAL, finish
from mlplatform.pipelines.errors import FailedPrecondition
from mlplatform.pipelines.ir.placeholders import RunContext
from mlplatform.pipelines.ir.spec import PipelineIR
from mlplatform.pipelines.store import RecurringRun, Run, Store, Task
from mlplatform.runners.base import Runner

log = logging.getLogger("mlplatform.pipelines")

_IDLE_SECONDS = 1.0
_RUN_FINAL = ("SUCCEEDED", "FAILED", "CANCELED")
RUN_TEMPLATE_FIELDS = (
    "experiment_id",
    "description",
    "pipeline_version_id",
    "pipeline_id",
    "pipeline_spec",
    "platform_spec",
    "parameters",
    "pipeline_root",
    "service_account",
)


class Engine:
    def __init__(self, store: Store, runner: Runner, root: ArtifactRoot, work_dir: Path, metrics=None):
        self.store = store
        self.runner = runner
        self.root = root
        self.work_dir = work_dir
        self.layout = make_layout(runner.kind, root, work_dir)
        self.metrics = metrics
        self._events: queue.Queue = queue.Queue()
        self._wakeups: dict[str, float] = {}
        self._irs: dict[str, PipelineIR] = {}
        self._run_roots: dict[str, tuple[ArtifactRoot, Layout]] = {}
        self._last_recurring_check = 0.0
        self.stopped = threading.Event()
        self.executors = ExecutorTasks(self)
        self._thread = threading.Thread(target=self._loop, name="pipeline-scheduler", daemon=True)

    # --- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        self._resume()
        self._thread.start()

    def stop(self) -> None:
        self.stopped.set()
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
        while not self.stopped.is_set():
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
            if now - self._last_recurring_check >= _IDLE_SECONDS:
                self._last_recurring_check = now
                self._fire_recurring_safely(now)

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
                self.executors.finished(run_id, *event[2:])
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
            self.executors.run_settled(run_id)
            if self.metrics:
                self.metrics.run_finished(settled.state)

    # --- recurring runs -----------------------------------------------------------------------

    def _fire_recurring_safely(self, now: float) -> None:
        try:
            for recurring in self.store.due_recurring_runs(now):
                self._fire(recurring, now)
        except Exception:
            log.exception("pipeline controller: firing recurring runs failed")

    def _fire(self, recurring: RecurringRun, now: float) -> None:
        """Start the run a due trigger asks for, unless max_concurrency runs are still active (then the
        time stays due and fires when one finishes). With no_catchup, missed times are skipped."""
        if self.store.active_runs_of(recurring.id) >= recurring.max_concurrency:
            return
        scheduled = recurring.next_fire_at
        following = next_fire(recurring.trigger, now if recurring.no_catchup else scheduled)
        run = Run(
            **{field: getattr(recurring, field) for field in RUN_TEMPLATE_FIELDS},
            display_name=f"{recurring.display_name} {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(scheduled))}",  # noqa: E501
            recurring_run_id=recurring.id,
            scheduled_at=None,
            state="PENDING",
            state_history=[],
            outputs={},
        )
        if self.store.fire(recurring, run, following):
            self.submit(run.id)

    def ir_of(self, run: Run) -> PipelineIR:
        if run.id not in self._irs:
            self._irs[run.id] = PipelineIR(run.pipeline_spec)
        return self._irs[run.id]

    def root_of(self, run: Run) -> ArtifactRoot:
        """Where the run's outputs go: its runtime_config.pipeline_root, else --artifact-root."""
        return self._run_root(run)[0]

    def layout_of(self, run: Run) -> Layout:
        return self._run_root(run)[1]

    def _run_root(self, run: Run) -> tuple[ArtifactRoot, Layout]:
        if not run.pipeline_root:
            return self.root, self.layout
        if run.pipeline_root not in self._run_roots:
            root = ArtifactRoot(run.pipeline_root)
            self._run_roots[run.pipeline_root] = (root, make_layout(self.runner.kind, root, self.work_dir))
        return self._run_roots[run.pipeline_root]

    def post(self, event: tuple) -> None:
        """Hand an event to the scheduler thread (from any thread)."""
        self._events.put(event)

    def wake_at(self, run_id: str, when: float) -> None:
        self._wakeups[run_id] = min(when, self._wakeups.get(run_id, when))

    # --- what tasks see -------------------------------------------------------------------------

    def context_for(self, run: Run, row: Task) -> RunContext:
        return RunContext(
            job_name=run.display_name,
            job_resource_name=job_resource_name(self.ir_of(run).name, run.id),
            job_id=run.id,
            task_name=row.name,
            task_id=row.id,
            pipeline_root=self.root_of(run).uri(run.id),
            create_time=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(run.created_at)),
            workspace_path=self.layout.workspace(run.id),
        )

    # --- cancel, delete, resume ---------------------------------------------------------------

    def _cancel(self, run: Run, rows: list[Task]) -> None:
        running = [row.runner_name for row in rows if row.kind == "executor" and row.state == "RUNNING"]
        for row in rows:
            if row.state not in FINAL:
                finish(row, "CANCELED", "the run was terminated")
                self.store.save_task(row)
        self.store.set_run_state(run, "CANCELED", "terminated by request")
        self.executors.run_settled(run.id)
        if self.metrics:
            self.metrics.run_finished("CANCELED")
        for name in running:  # stopping processes can take seconds: not on the scheduler thread
            threading.Thread(target=self.executors.cancel, args=(name,), daemon=True).start()

    def _delete(self, run_id: str) -> None:
        rows = self.store.tasks_of(run_id)
        for row in rows:
            if row.kind == "executor" and row.state == "RUNNING":
                self.executors.cancel(row.runner_name)
        self.executors.run_settled(run_id)
        self.store.delete_run(run_id)
        self._irs.pop(run_id, None)
        self._wakeups.pop(run_id, None)

    def _resume(self) -> None:
        for run_id in self.store.active_run_ids():
            for row in self.store.tasks_of(run_id):
                if row.kind == "executor" and row.state == "RUNNING" and row.runner_name:
                    self.executors.reattach(row)
            self.submit(run_id)


def job_resource_name(pipeline_name: str, run_id: str) -> str:
    """As KFP names a run's workflow: the pipeline's name as a DNS label, then a suffix from the run id."""
    slug = re.sub(r"[^a-z0-9-]+", "-", pipeline_name.lower()).strip("-")[:50] or "pipeline"
    return f"{slug}-{run_id.replace('-', '')[:8]}"


def reset_for_retry(row: Task) -> None:
    row.state = "PENDING" if row.kind == "executor" else "RUNNING"
    row.attempt = 0 if row.kind == "executor" else row.attempt
    row.error, row.finished_at, row.next_attempt_at = "", None, None
    row.state_history = list(row.state_history or []) + [
        {"state": row.state, "at": time.time(), "error": "retry"}
    ]
