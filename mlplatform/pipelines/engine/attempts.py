"""Executor tasks on the runner: cache lookups, attempts, watching, outputs, retries with backoff,
re-attaching after a restart. Importers, which run nothing, are resolved here too."""

from __future__ import annotations

import logging
import re
import shutil
import threading
import time
import uuid

from mlplatform.pipelines.artifacts import import_problem
from mlplatform.pipelines.engine import platform
from mlplatform.pipelines.engine.cache import cache_key
from mlplatform.pipelines.engine.executor_input import runtime_artifact
from mlplatform.pipelines.engine.launch import command_for, environment_of, read_outputs, resources_of
from mlplatform.pipelines.engine.layout import POD_WORKSPACE_DIR, TaskFiles
from mlplatform.pipelines.engine.states import FINAL, EngineHost, finish
from mlplatform.pipelines.errors import InvalidInput
from mlplatform.pipelines.ir.spec import PipelineIR, TaskRef
from mlplatform.pipelines.store import Run, Task
from mlplatform.runners.base import TaskNotFound, TaskSpec, TaskState, TaskStatus

log = logging.getLogger("mlplatform.pipelines")

_LOG_TAIL_CHARS = 2000
METADATA_ONLY_ARTIFACTS = (
    "system.Metrics",
    "system.ClassificationMetrics",
    "system.SlicedClassificationMetrics",
)


class ExecutorTasks:
    def __init__(self, engine: EngineHost):
        self.engine = engine
        self._noted_runs: set[str] = set()  # runs told what the local runner ignores
        self._workspaces: set[str] = set()  # runs whose workspace PVC this controller has created

    def advance(self, run: Run, row: Task, task: TaskRef, ir: PipelineIR) -> None:
        if row.state != "PENDING":
            return
        component = ir.component(row.component)
        executor = ir.executor(component["executorLabel"])
        step = platform.PLATFORM_IMAGES.get(executor.get("container", {}).get("image", ""))
        if step:
            self._platform_step(run, row, step)
            return
        if row.attempt == 0 and self._reuse_cached(row, task, component, executor):
            return
        if row.next_attempt_at and row.next_attempt_at > time.time():
            self.engine.wake_at(run.id, row.next_attempt_at)
            return
        self._start_attempt(run, row, task, component, executor["container"])

    def _reuse_cached(self, row: Task, task: TaskRef, component: dict, executor: dict) -> bool:
        row.cache_key = cache_key(
            task.spec, component, executor, row.inputs.get("parameters", {}), row.inputs.get("artifacts", {})
        )
        if not row.cache_key:
            return False
        hit = self.engine.store.cached_task(row.cache_key)
        if hit is None or not self._artifacts_exist(hit):
            return False
        row.outputs, row.cached_from = hit.outputs, hit.id
        row.log = f"cached: outputs reused from task {hit.id} of run {hit.run_id}\n"
        finish(row, "SUCCEEDED")
        self.engine.store.save_task(row)
        if self.engine.metrics:
            self.engine.metrics.task_finished("SUCCEEDED", None, cached=True)
        return True

    def _artifacts_exist(self, task: Task) -> bool:
        """Whether a cached task's output files are still there (metrics live in metadata, not files)."""
        return all(
            self.engine.root.exists(item["uri"])
            for items in task.outputs.get("artifacts", {}).values()
            for item in items
            if item.get("type", {}).get("schemaTitle") not in METADATA_ONLY_ARTIFACTS
        )

    def _start_attempt(self, run: Run, row: Task, task: TaskRef, component: dict, container: dict) -> None:
        try:
            settings = self._platform_settings(run, row, component, container)
        except InvalidInput as error:
            finish(row, "FAILED", error.message)
            self.engine.store.save_task(row)
            return
        row.attempt += 1
        output_uris = {
            name: self.engine.root_of(run).uri(run.id, row.path, name)
            for name in component.get("outputDefinitions", {}).get("artifacts", {})
        }
        files = self.engine.layout_of(run).prepare(
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
            command=command_for(container, files, self.engine.context_for(run, row), self._venvs()),
            image=container.get("image", ""),
            env=environment_of(container),
            resources=resources_of(container),
            labels={"mlplatform.io/run-id": run.id, "mlplatform.io/task-id": row.id},
            artifact_staging=files.staging.to_json() if files.staging else None,
            timeout_seconds=float(settings.get("activeDeadlineSeconds") or 0) or None,
            platform_config=settings if self.engine.runner.kind == "kubernetes" else None,
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
        self.engine.store.save_task(row)  # before starting: a crash in between leaves a name to look for
        try:
            self.engine.runner.start(spec)
        except Exception as error:
            self._attempt_failed(row, f"the runner could not start the task: {error}")
            self.engine.store.save_task(row)
            return
        self._watch(run.id, row.id, spec.name)

    def run_settled(self, run_id: str) -> None:
        """The run ended (or is cancelled or deleted): forget it; on Kubernetes delete its workspace PVC."""
        self._noted_runs.discard(run_id)
        self._workspaces.discard(run_id)
        if self.engine.runner.kind != "kubernetes":
            return
        try:
            if platform.workspace_of(self.engine.store.get_run(run_id).platform_spec) is not None:
                self.engine.runner.delete_pvc(platform.workspace_claim_name(run_id))
        except Exception:
            log.warning("pipeline controller: cannot delete the workspace PVC of run %s", run_id)

    def _platform_settings(self, run: Run, row: Task, component: dict, container: dict) -> dict:
        """The task's kfp-kubernetes settings, names resolved; locally, say once per run what is ignored."""
        config = platform.executor_config(run.platform_spec, component["executorLabel"])
        if self.engine.runner.kind != "kubernetes":
            ignored = platform.ignored_locally(config, container)
            if ignored and run.id not in self._noted_runs:
                self._noted_runs.add(run.id)
                row.log = (row.log or "") + (
                    f"local runner: ignored kfp-kubernetes/resource settings of this run: "
                    f"{', '.join(ignored)}"
                    " (first seen on this task; they apply on the Kubernetes runner)\n"
                )
            return {key: value for key, value in config.items() if key == "activeDeadlineSeconds"}
        settings = platform.resolved(
            config,
            lambda spec: platform.parameter_value(
                spec, row.inputs.get("parameters", {}), run.parameters or {}, self._sibling_output(row)
            ),
        )
        workspace = self._workspace_claim(run)
        return {**settings, "workspace": workspace} if workspace else settings

    def _workspace_claim(self, run: Run) -> dict | None:
        """Kubernetes: the run's PipelineConfig workspace, a PVC created on its first task (as KFP does)."""
        workspace = platform.workspace_of(run.platform_spec)
        if workspace is None:
            return None
        name = platform.workspace_claim_name(run.id)
        if run.id not in self._workspaces:
            try:
                self.engine.runner.create_workspace(name, workspace)
            except ValueError as error:
                raise InvalidInput(str(error)) from None
            self._workspaces.add(run.id)
        return {"pvcName": name, "mountPath": POD_WORKSPACE_DIR}

    def _sibling_output(self, row: Task):
        parent = row.path.rsplit("/", 1)[0] if "/" in row.path else ""

        def output(producer: str, key: str):
            path = f"{parent}/{producer}" if parent else producer
            for other in self.engine.store.tasks_of(row.run_id):
                if other.path == path:
                    return (other.outputs or {}).get("parameters", {}).get(key)
            return None

        return output

    def _platform_step(self, run: Run, row: Task, step: str) -> None:
        """kfp-kubernetes CreatePVC / DeletePVC: a claim on Kubernetes, a directory locally."""
        inputs = row.inputs.get("parameters", {})
        try:
            if step == "create":
                name = inputs.get("pvc_name") or (
                    f"{self.engine.context_for(run, row).job_resource_name}-"
                    f"{str(inputs.get('pvc_name_suffix') or 'pvc').lstrip('-')}"
                )
                if self.engine.runner.kind == "kubernetes":
                    self.engine.runner.create_pvc(name, inputs)
                else:
                    (self.engine.layout.work_dir / "pvcs" / name).mkdir(parents=True, exist_ok=True)
                row.outputs = {"parameters": {"name": name}, "artifacts": {}}
            elif self.engine.runner.kind == "kubernetes":
                self.engine.runner.delete_pvc(inputs["pvc_name"])
            else:
                shutil.rmtree(self.engine.layout.work_dir / "pvcs" / inputs["pvc_name"], ignore_errors=True)
            finish(row, "SUCCEEDED")
        except Exception as error:
            finish(row, "FAILED", f"{step} PVC failed: {error}")
        self.engine.store.save_task(row)

    def _venvs(self):
        """Where packages_to_install environments are cached (local runner only)."""
        return self.engine.layout.work_dir / "venvs" if self.engine.runner.kind == "local" else None

    def _watch(self, run_id: str, task_id: str, name: str) -> None:
        def wait() -> None:
            while not self.engine.stopped.is_set():
                try:
                    status = self.engine.runner.wait(name, timeout=30)
                except TaskNotFound:
                    status = TaskStatus(TaskState.FAILED, reason="Lost", message="the runner lost the task")
                if status.state.finished:
                    self.engine.post(("finished", run_id, task_id, name, status))
                    return

        threading.Thread(target=wait, name=f"watch-{name}", daemon=True).start()

    def finished(self, run_id: str, task_id: str, name: str, status: TaskStatus) -> None:
        row = self.engine.store.get_task(run_id, task_id)
        if row.runner_name != name or row.state != "RUNNING":
            return  # cancelled, or an attempt we already gave up on
        row.log = (row.log or "") + f"--- attempt {row.attempt} ({name}) ---\n" + self._logs(name)
        if status.state == TaskState.SUCCEEDED:
            try:
                files = TaskFiles(
                    {}, row.launch["outputs_dir"], stored_uris=row.launch.get("stored_uris", {})
                )
                component = self.engine.ir_of(self.engine.store.get_run(run_id)).component(row.component)
                row.outputs = read_outputs(
                    self.engine.root, files, component, row.launch.get("output_uris", {})
                )
                finish(row, "SUCCEEDED")
            except Exception as error:
                self._attempt_failed(row, f"cannot read the task's outputs: {error}")
        elif status.state == TaskState.CANCELLED:
            finish(row, "CANCELED", "cancelled")
        else:
            reason = f"{status.reason}: {status.message}".strip(": ") or "failed"
            self._attempt_failed(row, reason)
        self.engine.store.save_task(row)
        self._forget(name)
        if self.engine.metrics and row.state in FINAL:
            started = row.launch.get("attempt_started_at")
            self.engine.metrics.task_finished(row.state, time.time() - started if started else None)

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
            self.engine.wake_at(row.run_id, row.next_attempt_at)
            return
        tail = (row.log or "")[-_LOG_TAIL_CHARS:].strip()
        finish(row, "FAILED", reason + (f"\n{tail}" if tail else ""))

    def _logs(self, name: str) -> str:
        try:
            return self.engine.runner.logs(name)
        except Exception as error:
            return f"(logs unavailable: {error})\n"

    def _forget(self, name: str) -> None:
        try:
            self.engine.runner.delete(name)
        except Exception:
            log.warning("pipeline controller: cannot delete runner task %s", name)

    def run_importer(self, run: Run, row: Task, component: dict) -> None:
        importer = self.engine.ir_of(run).executor(component["executorLabel"])["importer"]
        source = importer.get("artifactUri", {})
        if "runtimeParameter" in source:
            uri = row.inputs.get("parameters", {}).get(source["runtimeParameter"], "")
        else:
            uri = source.get("constant", "")
        problem = import_problem(uri, "importer")
        if problem:
            finish(row, "FAILED", problem)
            return
        artifact = runtime_artifact("artifact", importer.get("typeSchema", {}), uri, importer.get("metadata"))
        row.outputs = {"parameters": {}, "artifacts": {"artifact": [artifact]}}
        finish(row, "SUCCEEDED")

    def reattach(self, row: Task) -> None:
        name = row.runner_name
        try:
            status = self.engine.runner.status(name)
        except TaskNotFound:
            lost = TaskStatus(
                TaskState.FAILED,
                reason="Lost",
                message=f"the runner has no task {name} after the controller restarted",
            )
            self.engine.post(("finished", row.run_id, row.id, name, lost))
            return
        if status.reason == "Lost" and status.started_at is None:
            # Accepted but never started before the restart: start the same attempt again.
            self._forget(name)
            row.state, row.attempt, row.runner_name = "PENDING", row.attempt - 1, ""
            self.engine.store.save_task(row)
            return
        self._watch(row.run_id, row.id, name)

    def cancel(self, name: str) -> None:
        try:
            self.engine.runner.cancel(name)
            self.engine.runner.delete(name)
        except Exception:
            log.warning("pipeline controller: cannot cancel runner task %s", name)


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
