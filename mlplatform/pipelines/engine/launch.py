"""From an executor task to the runner's TaskSpec, and from a finished attempt back to its outputs."""

from __future__ import annotations

import json
import re
import shlex
import sys

from mlplatform.pipelines.artifacts import ArtifactRoot
from mlplatform.pipelines.engine.executor_input import EXECUTOR_OUTPUT_FILE, runtime_artifact
from mlplatform.pipelines.engine.layout import TaskFiles
from mlplatform.pipelines.ir.parameters import parse_output, typed
from mlplatform.pipelines.ir.placeholders import RunContext, resolve_command
from mlplatform.runners.base import Resources

_EXECUTOR_MAIN = re.compile(r"\bpython3? -m kfp\.dsl\.executor_main\b")


def command_for(container: dict, files: TaskFiles, context: RunContext, local: bool) -> list[str]:
    """The container's command and args with placeholders resolved.

    Locally, a lightweight Python component skips its `pip install kfp` preamble (kfp is installed
    here) and runs the kfp executor with this interpreter; every other command runs as written.
    """
    command = list(container.get("command", [])) + list(container.get("args", []))
    if local:
        command = _without_pip_preamble(command)
    resolved = resolve_command(command, files.executor_input, context)
    return files.wrapper + resolved


def _without_pip_preamble(command: list[str]) -> list[str]:
    if (
        len(command) > 4
        and command[:2] == ["sh", "-c"]
        and "pip install" in command[2]
        and '"$0" "$@"' in command[2]
    ):
        command = command[3:]
        if command[:2] == ["sh", "-ec"] and _EXECUTOR_MAIN.search(command[2]):
            interpreter = f"{shlex.quote(sys.executable)} -m kfp.dsl.executor_main"
            command[2] = _EXECUTOR_MAIN.sub(interpreter, command[2])
    return command


def environment_of(container: dict) -> dict[str, str]:
    return {item["name"]: str(item.get("value", "")) for item in container.get("env", []) if "name" in item}


def resources_of(container: dict) -> Resources | None:
    """IR resource settings (set_cpu_limit, set_memory_request, set_accelerator_type, ...)."""
    spec = container.get("resources") or {}
    if not spec:
        return None

    def pick(text_key: str, number_key: str, unit: str = "") -> str | None:
        if spec.get(text_key):
            return str(spec[text_key])
        if spec.get(number_key):
            return f"{spec[number_key]:g}{unit}"
        return None

    accelerator = spec.get("accelerator") or {}
    count = accelerator.get("resourceCount") or accelerator.get("count")
    return Resources(
        cpu_request=pick("resourceCpuRequest", "cpuRequest"),
        cpu_limit=pick("resourceCpuLimit", "cpuLimit"),
        memory_request=pick("resourceMemoryRequest", "memoryRequest", "G"),
        memory_limit=pick("resourceMemoryLimit", "memoryLimit", "G"),
        accelerator_type=accelerator.get("resourceType") or accelerator.get("type") or None,
        accelerator_count=int(count) if count else None,
    )


def read_outputs(root: ArtifactRoot, files: TaskFiles, component: dict, output_uris: dict[str, str]) -> dict:
    """The outputs of a finished attempt: {"parameters": {name: value}, "artifacts": {name: [artifact]}}.

    Python components write the executor output file (parameters and artifact metadata); container
    components write each output parameter to its own file.
    """
    definitions = component.get("outputDefinitions", {})
    text = root.read_text(f"{files.outputs_dir}/{EXECUTOR_OUTPUT_FILE}")
    written = json.loads(text) if text else {}
    parameters = {}
    for name, spec in definitions.get("parameters", {}).items():
        kind = spec.get("parameterType", "STRING")
        if name in written.get("parameterValues", {}):
            parameters[name] = typed(written["parameterValues"][name], kind)
            continue
        content = root.read_text(f"{files.outputs_dir}/parameters/{name}")
        if content is None:
            raise ValueError(f"the task did not write its output parameter {name!r}")
        parameters[name] = parse_output(content, kind)
    artifacts = {}
    for name, spec in definitions.get("artifacts", {}).items():
        reported = (written.get("artifacts", {}).get(name, {}).get("artifacts") or [{}])[0]
        uri = files.stored_uris.get(reported.get("uri", ""), reported.get("uri")) or output_uris[name]
        artifacts[name] = [
            runtime_artifact(name, spec.get("artifactType", {}), uri, reported.get("metadata"))
        ]
    return {"parameters": parameters, "artifacts": artifacts}
