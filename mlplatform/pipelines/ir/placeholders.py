"""Resolving the placeholders in a container's command and args against its ExecutorInput.

    {{$}}                                        the ExecutorInput as JSON
    {{$.inputs.parameters['n']}}                 a parameter value (strings raw, anything else JSON)
    {{$.inputs.artifacts['a'].uri|path|metadata}}, ...metadata['key']
    {{$.outputs.parameters['n'].output_file}}    {{$.outputs.artifacts['a'].uri|path|metadata}}
    {{$.outputs.output_file}}                    the executor output file
    {{$.pipeline_job_name}} ...                  run-level values (see RunContext)
    {{$.workspace_path}}                         the run's workspace directory
    {"IfPresent": {"InputName": ..., "Then": [...], "Else": [...]}} and {"Concat": [...]}

An artifact's `path` is where the kfp SDK maps its URI: s3://b/k -> /s3/b/k, a local path stays as is.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from kfp.dsl.types.artifact_types import Artifact

from mlplatform.pipelines.errors import InvalidInput
from mlplatform.pipelines.ir.parameters import as_text

_PLACEHOLDER = re.compile(r"\{\{\$(?:\.([^{}]*))?\}\}")
_IO = re.compile(r"^(inputs|outputs)\.(parameters|artifacts)\['([^']*)'\](?:\.([a-z_]+))?(?:\['([^']*)'\])?$")


@dataclass(frozen=True)
class RunContext:
    """Run-level values for the pipeline_* placeholders."""

    job_name: str  # the run's display name
    job_resource_name: str  # the run's id-based resource name
    job_id: str
    task_name: str
    task_id: str
    pipeline_root: str
    create_time: str = ""
    workspace_path: str = ""  # the run's shared workspace (PipelineConfig.workspace)


def resolve_command(arguments: list[str], executor_input: dict, context: RunContext) -> list[str]:
    resolved: list[str] = []
    for argument in arguments:
        for piece in _structured(argument, executor_input):
            resolved.append(resolve_text(piece, executor_input, context))
    return resolved


def resolve_text(text: str, executor_input: dict, context: RunContext) -> str:
    """Replace every placeholder in one string."""

    def replace(match: re.Match) -> str:
        return _value(match.group(1), executor_input, context)

    return _PLACEHOLDER.sub(replace, text)


def _structured(argument, executor_input: dict) -> list[str]:
    """IfPresent and Concat structures (JSON strings in the IR) as plain strings with placeholders."""
    if isinstance(argument, str) and argument.startswith(('{"IfPresent"', '{"Concat"')):
        try:
            argument = json.loads(argument)
        except json.JSONDecodeError:
            return [argument]
    if isinstance(argument, str):
        return [argument]
    if isinstance(argument, list):
        return [piece for item in argument for piece in _structured(item, executor_input)]
    if "Concat" in argument:
        return ["".join("".join(_structured(item, executor_input)) for item in argument["Concat"])]
    if "IfPresent" in argument:
        branch = argument["IfPresent"]
        name = branch.get("InputName", "")
        inputs = executor_input.get("inputs", {})
        present = name in inputs.get("parameterValues", {}) or name in inputs.get("artifacts", {})
        chosen = branch.get("Then") if present else branch.get("Else")
        return [] if chosen is None else _structured(chosen, executor_input)
    raise InvalidInput(f"unknown structured placeholder {json.dumps(argument)[:80]}")


def _value(expression: str | None, executor_input: dict, context: RunContext) -> str:
    if expression is None:
        return json.dumps(executor_input)
    run_values = {
        "pipeline_job_name": context.job_name,
        "pipeline_job_resource_name": context.job_resource_name,
        "pipeline_job_uuid": context.job_id,
        "pipeline_task_name": context.task_name,
        "pipeline_task_uuid": context.task_id,
        "pipeline_root": context.pipeline_root,
        "pipeline_job_create_time_utc": context.create_time,
        "pipeline_job_schedule_time_utc": context.create_time,
        "workspace_path": context.workspace_path,
        "outputs.output_file": executor_input["outputs"]["outputFile"],
        "outputMetadataUri": executor_input["outputs"]["outputFile"],
    }
    if expression in run_values:
        return run_values[expression]
    match = _IO.match(expression)
    if not match:
        raise InvalidInput(f"unsupported placeholder {{{{$.{expression}}}}}")
    side, kind, name, attribute, key = match.groups()
    if kind == "parameters":
        if side == "inputs":
            values = executor_input["inputs"].get("parameterValues", {})
            return as_text(values[name]) if name in values else ""
        return executor_input["outputs"]["parameters"][name]["outputFile"]
    artifacts = executor_input[side].get("artifacts", {}).get(name, {}).get("artifacts", [])
    if not artifacts:
        return ""
    artifact = artifacts[0]
    if attribute == "uri":
        return artifact["uri"]
    if attribute == "path":
        return local_path(artifact["uri"])
    if attribute == "metadata":
        metadata = artifact.get("metadata", {})
        return as_text(metadata.get(key)) if key else json.dumps(metadata)
    raise InvalidInput(f"unsupported placeholder {{{{$.{expression}}}}}")


def local_path(uri: str) -> str:
    """Where the kfp SDK reads and writes an artifact with this URI."""
    return Artifact(uri=uri).path
