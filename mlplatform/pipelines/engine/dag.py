"""One reconciliation pass over a run: create the tasks that became ready, advance the running ones,
settle the DAGs whose tasks all finished.

Everything it decides is written to task rows, so a pass can start from the rows alone (after a
restart, say). A task is created when its upstream tasks have finished; it is never created when an
upstream failed, unless its trigger policy is ALL_UPSTREAM_TASKS_COMPLETED (an exit handler's task).
Such a never-created task is "blocked"; a DAG settles when each of its tasks is finished or blocked.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from mlplatform.pipelines.engine import inputs
from mlplatform.pipelines.engine.executor_input import runtime_artifact
from mlplatform.pipelines.engine.states import FINAL, UNSUCCESSFUL, EngineHost, finish
from mlplatform.pipelines.errors import InvalidInput
from mlplatform.pipelines.ir.expressions import evaluate
from mlplatform.pipelines.ir.spec import PipelineIR, TaskRef
from mlplatform.pipelines.store.models import Run, Task
from mlplatform.pipelines.store.models import new_id as _new_id

BLOCKED, WAITING, READY = "blocked", "waiting", "ready"


@dataclass
class Scope:
    """A DAG being executed: the root, a nested DAG task or one loop iteration."""

    path: str
    component: dict
    parameters: dict
    artifacts: dict
    owner: Task | None = None

    def child(self, name: str) -> str:
        return f"{self.path}/{name}" if self.path else name


@dataclass
class Settled:
    state: str
    error: str = ""


class RunDriver:
    def __init__(self, engine: EngineHost, run: Run, ir: PipelineIR, rows: list[Task]):
        self.engine = engine
        self.run = run
        self.ir = ir
        self.rows = {row.path: row for row in rows}

    # --- scopes -------------------------------------------------------------------------------

    def drive_root(self) -> Settled | None:
        parameters = dict(self.run.parameters or {})
        artifacts = run_input_artifacts(self.ir.root, parameters)
        return self.drive(Scope("", self.ir.root, parameters, artifacts))

    def drive(self, scope: Scope) -> Settled | None:
        tasks = {task.name: task for task in PipelineIR.tasks(scope.component)}
        progress = True
        while progress:
            progress = False
            for task in tasks.values():
                row = self.rows.get(scope.child(task.name))
                if row is None:
                    if self._readiness(task.name, scope, tasks, {}) != READY:
                        continue
                    row = self._create(task, scope)
                    progress = True
                if row.state not in FINAL and self._advance(row, task, scope):
                    progress = True
        return self._settle(scope, tasks)

    def _settle(self, scope: Scope, tasks: dict[str, TaskRef]) -> Settled | None:
        outcomes = {name: self._outcome(name, scope, tasks, {}) for name in tasks}
        if any(outcome not in FINAL + (BLOCKED,) for outcome in outcomes.values()):
            return None
        failed = [name for name, outcome in outcomes.items() if outcome in UNSUCCESSFUL]
        if not failed:
            return Settled("SUCCEEDED")
        first = self.rows[scope.child(failed[0])]
        state = "CANCELED" if all(outcomes[name] == "CANCELED" for name in failed) else "FAILED"
        return Settled(state, f"task {first.name} {first.state.lower()}: {first.error}".rstrip(": "))

    def _outcome(self, name: str, scope: Scope, tasks: dict[str, TaskRef], memo: dict) -> str:
        """A task's final state, or BLOCKED / WAITING / READY / RUNNING."""
        row = self.rows.get(scope.child(name))
        if row is not None:
            return row.state if row.state in FINAL else "RUNNING"
        return self._readiness(name, scope, tasks, memo)

    def _readiness(self, name: str, scope: Scope, tasks: dict[str, TaskRef], memo: dict) -> str:
        if name in memo:
            return memo[name]
        task = tasks[name]
        upstream = [self._outcome(other, scope, tasks, memo) for other in sorted(task.upstream)]
        if any(outcome not in FINAL + (BLOCKED,) for outcome in upstream):
            verdict = WAITING
        elif (
            any(outcome in UNSUCCESSFUL + (BLOCKED,) for outcome in upstream) and not task.runs_after_failures
        ):
            verdict = BLOCKED
        else:
            verdict = READY
        memo[name] = verdict
        return verdict

    # --- creating tasks -----------------------------------------------------------------------

    def _create(self, task: TaskRef, scope: Scope) -> Task:
        component = self.ir.component(task.component_name)
        row = Task(
            id=_new_id(),
            run_id=self.run.id,
            parent_id=scope.owner.id if scope.owner else None,
            path=scope.child(task.name),
            name=task.name,
            component=task.component_name,
            kind=self._kind(task, component),
            state="PENDING",
            created_at=time.time(),
            state_history=[],
        )
        try:
            resolved = inputs.resolve(
                task.spec,
                component,
                scope.parameters,
                scope.artifacts,
                lambda name: self.rows.get(scope.child(name)),
                self.engine.context_for(self.run, row),
            )
            row.inputs = resolved.as_record()
            if resolved.missing:
                finish(
                    row, "SKIPPED", f"input(s) {', '.join(resolved.missing)} come from tasks that did not run"
                )
            elif task.condition and not evaluate(
                task.condition, {"inputs": {"parameter_values": resolved.parameters}}
            ):
                finish(row, "SKIPPED", f"condition is false: {task.condition}")
            elif row.kind == "loop":
                row.inputs["items"] = _loop_items(task.spec, resolved)
                row.state, row.started_at = "RUNNING", time.time()
            elif row.kind == "dag":
                row.state, row.started_at = "RUNNING", time.time()
            elif row.kind == "importer":
                self.engine.executors.run_importer(self.run, row, component)
        except InvalidInput as error:
            finish(row, "FAILED", error.message)
        self.rows[row.path] = row
        self.engine.store.save_task(row)
        return row

    def _kind(self, task: TaskRef, component: dict) -> str:
        if task.is_loop:
            return "loop"
        if "dag" in component:
            return "dag"
        executor = self.ir.executor(component["executorLabel"])
        return "importer" if "importer" in executor else "executor"

    # --- advancing tasks ----------------------------------------------------------------------

    def _advance(self, row: Task, task: TaskRef, scope: Scope) -> bool:
        """Move an unfinished task along; True when it finished now."""
        if row.kind == "executor":
            self.engine.executors.advance(self.run, row, task, self.ir)
        elif row.kind == "dag":
            self._advance_dag(row)
        elif row.kind == "loop":
            self._advance_loop(row, task)
        if row.state in FINAL:
            return True
        return False

    def _advance_dag(self, row: Task) -> None:
        component = self.ir.component(row.component)
        child = Scope(
            row.path, component, row.inputs.get("parameters", {}), row.inputs.get("artifacts", {}), row
        )
        settled = self.drive(child)
        if settled is not None:
            if settled.state == "SUCCEEDED":
                row.outputs = self._dag_outputs(child)
            finish(row, settled.state, settled.error)
            self.engine.store.save_task(row)

    def _advance_loop(self, row: Task, task: TaskRef) -> None:
        """Start iterations up to the parallelism limit, drive the started ones, settle the loop."""
        component = self.ir.component(row.component)
        items = row.inputs.get("items", [])
        limit = int(task.spec.get("iteratorPolicy", {}).get("parallelismLimit", 0) or 0)
        iterations = [self.rows.get(f"{row.path}/{index}") for index in range(len(items))]
        while self._loop_pass(row, task, component, items, limit, iterations):
            pass  # an iteration finished and freed a slot: start the next ones now
        if all(iteration is not None and iteration.state in FINAL for iteration in iterations):
            failed = [iteration for iteration in iterations if iteration.state in UNSUCCESSFUL]
            if failed:
                finish(row, "FAILED", f"iteration {failed[0].path.rsplit('/', 1)[-1]}: {failed[0].error}")
            else:
                row.outputs = _collect(component, iterations)
                finish(row, "SUCCEEDED")
            self.engine.store.save_task(row)

    def _loop_pass(
        self, row: Task, task: TaskRef, component: dict, items: list, limit: int, iterations: list
    ) -> bool:
        """One pass over the iterations; True when one finished while others wait for a slot."""
        active = sum(1 for iteration in iterations if iteration is not None and iteration.state not in FINAL)
        freed = False
        for index, iteration in enumerate(iterations):
            if iteration is None:
                if limit and active >= limit:
                    continue
                iteration = iterations[index] = self._create_iteration(row, task, index, items[index])
                active += 1
            if iteration.state in FINAL:
                continue
            scope = Scope(
                iteration.path,
                component,
                iteration.inputs["parameters"],
                iteration.inputs["artifacts"],
                iteration,
            )
            settled = self.drive(scope)
            if settled is not None:
                if settled.state == "SUCCEEDED":
                    iteration.outputs = self._dag_outputs(scope)
                finish(iteration, settled.state, settled.error)
                self.engine.store.save_task(iteration)
                active -= 1
                freed = True
        return freed and any(iteration is None for iteration in iterations)

    def _create_iteration(self, loop: Task, task: TaskRef, index: int, item) -> Task:
        parameters = dict(loop.inputs.get("parameters", {}))
        artifacts = dict(loop.inputs.get("artifacts", {}))
        if "parameterIterator" in task.spec:
            parameters[task.spec["parameterIterator"]["itemInput"]] = item
        else:
            artifacts[task.spec["artifactIterator"]["itemInput"]] = [item]
        now = time.time()
        iteration = Task(
            id=_new_id(),
            run_id=self.run.id,
            parent_id=loop.id,
            path=f"{loop.path}/{index}",
            name=f"{loop.name}-iteration-{index}",
            kind="iteration",
            component=loop.component,
            state="RUNNING",
            created_at=now,
            started_at=now,
            inputs={"parameters": parameters, "artifacts": artifacts},
            state_history=[],
        )
        self.rows[iteration.path] = iteration
        self.engine.store.save_task(iteration)
        return iteration

    # --- outputs ------------------------------------------------------------------------------

    def _dag_outputs(self, scope: Scope) -> dict:
        return dag_outputs(scope.component, lambda name: self.rows.get(scope.child(name)))


def run_input_artifacts(root: dict, parameters: dict) -> dict:
    """The root's artifact inputs, popped from the run's parameters (stored as {"uri", "metadata"})."""
    artifacts = {}
    for name, definition in root.get("inputDefinitions", {}).get("artifacts", {}).items():
        given = parameters.pop(name, None)
        if given:
            artifact_type = definition.get("artifactType", {})
            artifacts[name] = [runtime_artifact(name, artifact_type, given["uri"], given["metadata"])]
    return artifacts


def dag_outputs(component: dict, subtask: callable) -> dict:
    """A DAG's outputs from its tasks' outputs, following dag.outputs selectors (oneOf: the first present)."""
    spec = component.get("dag", {}).get("outputs", {})
    parameters, artifacts = {}, {}
    for name, output in spec.get("parameters", {}).items():
        selectors = (
            [output["valueFromParameter"]]
            if "valueFromParameter" in output
            else output.get("valueFromOneof", {}).get("parameterSelectors", [])
        )
        for selector in selectors:
            row = subtask(selector["producerSubtask"])
            values = (row.outputs or {}).get("parameters", {}) if row is not None else {}
            if selector["outputParameterKey"] in values:
                parameters[name] = values[selector["outputParameterKey"]]
                break
    for name, output in spec.get("artifacts", {}).items():
        for selector in output.get("artifactSelectors", []):
            row = subtask(selector["producerSubtask"])
            values = (row.outputs or {}).get("artifacts", {}) if row is not None else {}
            if selector["outputArtifactKey"] in values:
                artifacts[name] = values[selector["outputArtifactKey"]]
                break
    return {"parameters": parameters, "artifacts": artifacts}


def _collect(component: dict, iterations: list[Task]) -> dict:
    """A loop's outputs: each iteration's value, in item order (dsl.Collected)."""
    parameters: dict[str, list] = {
        name: [] for name in component.get("outputDefinitions", {}).get("parameters", {})
    }
    artifacts: dict[str, list] = {
        name: [] for name in component.get("outputDefinitions", {}).get("artifacts", {})
    }
    for iteration in iterations:
        outputs = iteration.outputs or {}
        for name, value in outputs.get("parameters", {}).items():
            parameters.setdefault(name, []).append(value)
        for name, items in outputs.get("artifacts", {}).items():
            artifacts.setdefault(name, []).extend(items)
    return {"parameters": parameters, "artifacts": artifacts}


def _loop_items(task_spec: dict, resolved: inputs.Resolved) -> list:
    if "artifactIterator" in task_spec:
        name = task_spec["artifactIterator"]["items"]["inputArtifact"]
        return list(resolved.artifacts.get(name, []))
    items = task_spec["parameterIterator"]["items"]
    if "raw" in items:
        value = items["raw"]
    else:
        value = resolved.parameters.get(items["inputParameter"])
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise InvalidInput(f"ParallelFor items {value[:80]!r} are not a JSON list") from None
    if not isinstance(value, list):
        raise InvalidInput(f"ParallelFor items must be a list, not {type(value).__name__} {value!r}")
    return value
