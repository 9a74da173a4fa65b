"""The pipeline IR as the engine reads it, and its validation.

Validation happens before anything is stored: the protobuf schema first (field names and types, as
kfp's own PipelineSpec message defines them), then the graph: every reference must name something that
exists (components, executors, tasks, outputs) and no DAG may depend on itself, directly or through
nested components.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2

from mlplatform.pipelines.errors import InvalidInput

SUPPORTED_EXECUTORS = ("container", "importer")


@dataclass(frozen=True)
class TaskRef:
    """A task of a DAG, with the names it depends on."""

    name: str
    spec: dict

    @cached_property
    def upstream(self) -> set[str]:
        names = set(self.spec.get("dependentTasks", []))
        inputs = self.spec.get("inputs", {})
        for parameter in inputs.get("parameters", {}).values():
            if "taskOutputParameter" in parameter:
                names.add(parameter["taskOutputParameter"].get("producerTask", ""))
            if "taskFinalStatus" in parameter:
                names.add(parameter["taskFinalStatus"].get("producerTask", ""))
        for artifact in inputs.get("artifacts", {}).values():
            if "taskOutputArtifact" in artifact:
                names.add(artifact["taskOutputArtifact"].get("producerTask", ""))
        return names

    @property
    def component_name(self) -> str:
        return self.spec.get("componentRef", {}).get("name", "")

    @property
    def runs_after_failures(self) -> bool:
        """Exit-handler tasks run once their upstream finished, whatever the outcome."""
        return self.spec.get("triggerPolicy", {}).get("strategy") == "ALL_UPSTREAM_TASKS_COMPLETED"

    @property
    def condition(self) -> str:
        return self.spec.get("triggerPolicy", {}).get("condition", "")

    @property
    def is_loop(self) -> bool:
        return "parameterIterator" in self.spec or "artifactIterator" in self.spec


class PipelineIR:
    def __init__(self, spec: dict):
        self.spec = spec

    @property
    def name(self) -> str:
        return self.spec.get("pipelineInfo", {}).get("name", "")

    @property
    def root(self) -> dict:
        return self.spec["root"]

    def component(self, name: str) -> dict:
        return self.spec.get("components", {})[name]

    def executor(self, label: str) -> dict:
        return self.spec.get("deploymentSpec", {}).get("executors", {})[label]

    @staticmethod
    def tasks(component: dict) -> list[TaskRef]:
        return [
            TaskRef(name, spec) for name, spec in sorted(component.get("dag", {}).get("tasks", {}).items())
        ]

    def validate(self) -> PipelineIR:
        _check_schema(self.spec)
        problems: list[str] = []
        if not self.name:
            problems.append("pipelineInfo.name is missing")
        if "dag" not in self.root:
            problems.append("root.dag is missing: the root of a pipeline must be a DAG")
        components = self.spec.get("components", {})
        executors = self.spec.get("deploymentSpec", {}).get("executors", {})
        for name, component in components.items():
            problems += _check_component(f"components.{name}", component, components, executors)
        problems += _check_component("root", self.root, components, executors)
        if not problems:
            problems += _component_cycles(components, self.root)
        if problems:
            raise InvalidInput("invalid pipeline spec: " + "; ".join(problems[:10]))
        return self


def _check_schema(spec: dict) -> None:
    if not isinstance(spec, dict):
        raise InvalidInput("invalid pipeline spec: expected a mapping (the YAML kfp.compiler writes)")
    if not str(spec.get("schemaVersion", "")).startswith("2."):
        raise InvalidInput(
            f"invalid pipeline spec: schemaVersion {spec.get('schemaVersion')!r} is not a KFP v2 "
            "IR (2.x); compile the pipeline with kfp 2"
        )
    try:
        json_format.ParseDict(spec, pipeline_spec_pb2.PipelineSpec())
    except json_format.ParseError as error:
        raise InvalidInput(f"invalid pipeline spec: {error}") from None


def _check_component(where: str, component: dict, components: dict, executors: dict) -> list[str]:
    if "dag" in component:
        return _check_dag(where, component, components)
    label = component.get("executorLabel")
    if not label:
        return [f"{where} has neither a dag nor an executorLabel"]
    if label not in executors:
        return [f"{where}: executor {label!r} is not in deploymentSpec.executors"]
    kind = next(iter(executors[label]), "")
    if kind not in SUPPORTED_EXECUTORS:
        return [
            f"deploymentSpec.executors.{label}: {kind or 'empty'} executors are not supported "
            f"(use {' or '.join(SUPPORTED_EXECUTORS)})"
        ]
    if kind == "container" and not executors[label]["container"].get("image"):
        return [f"deploymentSpec.executors.{label}.container.image is missing"]
    return []


def _outputs_of(component: dict) -> tuple[set[str], set[str]]:
    outputs = component.get("outputDefinitions", {})
    return set(outputs.get("parameters", {})), set(outputs.get("artifacts", {}))


def _check_dag(where: str, component: dict, components: dict) -> list[str]:
    problems = []
    tasks = {task.name: task for task in PipelineIR.tasks(component)}
    producer_outputs = {
        name: _outputs_of(components[t.component_name])
        for name, t in tasks.items()
        if t.component_name in components
    }
    for task in tasks.values():
        at = f"{where}.dag.tasks.{task.name}"
        if task.component_name not in components:
            problems.append(f"{at}.componentRef: component {task.component_name!r} does not exist")
            continue
        for upstream in sorted(task.upstream - set(tasks)):
            problems.append(f"{at} refers to task {upstream!r}, which is not in the same DAG")
        inputs = task.spec.get("inputs", {})
        for input_name, parameter in inputs.get("parameters", {}).items():
            reference = parameter.get("taskOutputParameter")
            if reference and reference.get("producerTask") in producer_outputs:
                if reference.get("outputParameterKey") not in producer_outputs[reference["producerTask"]][0]:
                    problems.append(
                        f"{at}.inputs.parameters.{input_name}: task {reference['producerTask']!r} has "
                        f"no output parameter {reference.get('outputParameterKey')!r}"
                    )
        for input_name, artifact in inputs.get("artifacts", {}).items():
            reference = artifact.get("taskOutputArtifact")
            if reference and reference.get("producerTask") in producer_outputs:
                if reference.get("outputArtifactKey") not in producer_outputs[reference["producerTask"]][1]:
                    problems.append(
                        f"{at}.inputs.artifacts.{input_name}: task {reference['producerTask']!r} has "
                        f"no output artifact {reference.get('outputArtifactKey')!r}"
                    )
    problems += _dag_output_problems(where, component, tasks)
    cycle = _find_cycle({name: task.upstream & set(tasks) for name, task in tasks.items()})
    if cycle:
        problems.append(f"{where}.dag has a cycle: {' -> '.join(cycle)}")
    return problems


def _dag_output_problems(where: str, component: dict, tasks: dict) -> list[str]:
    problems = []
    outputs = component.get("dag", {}).get("outputs", {})
    selectors = []
    for name, spec in outputs.get("parameters", {}).items():
        if "valueFromParameter" in spec:
            selectors.append((name, spec["valueFromParameter"]))
        for selector in spec.get("valueFromOneof", {}).get("parameterSelectors", []):
            selectors.append((name, selector))
    for name, spec in outputs.get("artifacts", {}).items():
        selectors += [(name, selector) for selector in spec.get("artifactSelectors", [])]
    for name, selector in selectors:
        if selector.get("producerSubtask") not in tasks:
            problems.append(
                f"{where}.dag.outputs.{name} refers to task {selector.get('producerSubtask')!r}, "
                "which is not in the DAG"
            )
    return problems


def _find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle in `graph` (node -> the nodes it depends on) as a path, or None."""
    state: dict[str, int] = {}  # 1 visiting, 2 done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for upstream in sorted(graph.get(node, ())):
            if state.get(upstream) == 1:
                return stack[stack.index(upstream) :] + [upstream]
            if upstream not in state:
                found = visit(upstream)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def _component_cycles(components: dict, root: dict) -> list[str]:
    """A component whose DAG (transitively) contains itself would never end."""
    graph = {name: {t.component_name for t in PipelineIR.tasks(c)} for name, c in components.items()}
    graph["<root>"] = {t.component_name for t in PipelineIR.tasks(root)}
    cycle = _find_cycle(graph)
    return [f"components form a cycle: {' -> '.join(cycle)}"] if cycle else []
