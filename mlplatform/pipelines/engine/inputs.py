"""Resolving a task's inputs within its scope, as KFP's driver does.

Parameters come from the enclosing DAG's inputs (componentInputParameter, optionally through a
parameterExpressionSelector), from upstream tasks' outputs (taskOutputParameter), from constants
(runtimeValue; string constants may embed other inputs of the same task as placeholders, which is how
f-strings compile) or from an upstream task's final status (exit handlers). Artifacts come from the
DAG's inputs or upstream outputs.

An input whose producer was skipped (a branch not taken) is missing; a task missing a required input
is skipped in turn.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from mlplatform.pipelines.ir.expressions import evaluate
from mlplatform.pipelines.ir.parameters import as_text, typed
from mlplatform.pipelines.ir.placeholders import RunContext, resolve_text
from mlplatform.pipelines.store.models import Task


@dataclass
class Resolved:
    parameters: dict = field(default_factory=dict)
    artifacts: dict = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)

    def as_record(self) -> dict:
        return {"parameters": self.parameters, "artifacts": self.artifacts}


def resolve(
    task_spec: dict,
    component: dict,
    scope_parameters: dict,
    scope_artifacts: dict,
    sibling: callable,
    context: RunContext,
) -> Resolved:
    """`sibling(name)` returns the row of a task in the same DAG (or None)."""
    resolved = Resolved()
    inputs = task_spec.get("inputs", {})
    constants = {}
    for name, spec in inputs.get("parameters", {}).items():
        if "runtimeValue" in spec:
            constants[name] = spec["runtimeValue"].get("constant")
        elif "componentInputParameter" in spec:
            if spec["componentInputParameter"] in scope_parameters:
                value = scope_parameters[spec["componentInputParameter"]]
                selector = spec.get("parameterExpressionSelector")
                resolved.parameters[name] = _select(value, selector) if selector else value
        elif "taskOutputParameter" in spec:
            reference = spec["taskOutputParameter"]
            producer = sibling(reference["producerTask"])
            outputs = (producer.outputs or {}).get("parameters", {}) if producer else {}
            if reference["outputParameterKey"] in outputs:
                resolved.parameters[name] = outputs[reference["outputParameterKey"]]
            else:
                resolved.missing.append(name)
        elif "taskFinalStatus" in spec:
            resolved.parameters[name] = final_status(
                sibling(spec["taskFinalStatus"]["producerTask"]), context
            )
    placeholder_view = {"inputs": {"parameterValues": resolved.parameters}, "outputs": {"outputFile": ""}}
    for name, value in constants.items():
        resolved.parameters[name] = (
            resolve_text(value, placeholder_view, context) if isinstance(value, str) else value
        )
    for name, spec in inputs.get("artifacts", {}).items():
        if "componentInputArtifact" in spec:
            if spec["componentInputArtifact"] in scope_artifacts:
                resolved.artifacts[name] = scope_artifacts[spec["componentInputArtifact"]]
        elif "taskOutputArtifact" in spec:
            reference = spec["taskOutputArtifact"]
            producer = sibling(reference["producerTask"])
            outputs = (producer.outputs or {}).get("artifacts", {}) if producer else {}
            if reference["outputArtifactKey"] in outputs:
                resolved.artifacts[name] = outputs[reference["outputArtifactKey"]]
            else:
                resolved.missing.append(name)
    resolved.missing = [name for name in resolved.missing if _required(component, name)]
    _apply_definitions(component, resolved)
    return resolved


def _apply_definitions(component: dict, resolved: Resolved) -> None:
    """As KFP's driver does: a declared input not given takes its default (a nested pipeline's
    `inner(texts=['a'])` called as `inner()`), and a value reaching a STRING input as another type
    (a loop item's field `item.a`, say) becomes its text."""
    definitions = component.get("inputDefinitions", {}).get("parameters", {})
    for name, definition in definitions.items():
        kind = definition.get("parameterType", "STRING")
        value = resolved.parameters.get(name)
        if value is None and "defaultValue" in definition and name not in resolved.missing:
            resolved.parameters[name] = typed(definition["defaultValue"], kind)
        elif value is not None and kind == "STRING" and not isinstance(value, str):
            resolved.parameters[name] = as_text(_whole_numbers_as_int(value))
        elif value is not None:
            resolved.parameters[name] = typed(value, kind)


def _whole_numbers_as_int(value):
    """JSON carries numbers as doubles; 1.0 reads as 1 when written as text, as protobuf JSON does."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _select(value, selector: str):
    text = value if isinstance(value, str) else json.dumps(value)
    return evaluate(selector, {"string_value": text})


def _required(component: dict, name: str) -> bool:
    definitions = component.get("inputDefinitions", {})
    spec = definitions.get("parameters", {}).get(name) or definitions.get("artifacts", {}).get(name) or {}
    return not spec.get("isOptional") and "defaultValue" not in spec


# KFP reports a guarded group's end as COMPLETE, FAILED or CANCELLED (PipelineTaskFinalStatus.state).
_FINAL_STATUS_STATES = {"SUCCEEDED": "COMPLETE", "SKIPPED": "COMPLETE", "CANCELED": "CANCELLED"}


def final_status(producer: Task | None, context: RunContext) -> dict:
    """The PipelineTaskFinalStatus an exit task receives about the group it guards."""
    state = producer.state if producer else "FAILED"
    status = {
        "state": _FINAL_STATUS_STATES.get(state, state),
        "pipelineJobResourceName": context.job_resource_name,
        "pipelineTaskName": producer.name if producer else "",
    }
    if state not in ("SUCCEEDED", "SKIPPED"):
        status["error"] = {"code": 2, "message": (producer.error if producer else "") or state.lower()}
    return status
