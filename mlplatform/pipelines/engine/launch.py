"""From an executor task to the runner's TaskSpec, and from a finished attempt back to its outputs."""

from __future__ import annotations

import json
import re
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path

from mlplatform.pipelines.artifacts import ArtifactRoot
from mlplatform.pipelines.engine.executor_input import EXECUTOR_OUTPUT_FILE, runtime_artifact
from mlplatform.pipelines.engine.layout import TaskFiles
from mlplatform.pipelines.ir.parameters import parse_output, typed
from mlplatform.pipelines.ir.placeholders import RunContext, resolve_command
from mlplatform.pipelines.launcher import packages
from mlplatform.runners.base import Resources

_EXECUTOR_MAIN = re.compile(r"\bpython3? -m kfp\.dsl\.executor_main\b")


def command_for(
    container: dict, files: TaskFiles, context: RunContext, venvs: Path | None = None
) -> list[str]:
    """The container's command and args with placeholders resolved.

    With `venvs` (the local runner), a lightweight Python component's pip preamble is replaced: kfp is
    installed here, so the kfp executor runs with this interpreter, or, when the component has
    packages_to_install, with a cached virtual environment over it that holds those packages
    (launcher/packages.py). Every other command runs as written; on Kubernetes the preamble runs in
    the container, as with KFP's launcher.
    """
    command = list(container.get("command", [])) + list(container.get("args", []))
    wrapper: list[str] = []
    if venvs is not None:
        command, wrapper = _local_python(command, venvs)
    resolved = resolve_command(command, files.executor_input, context)
    return files.wrapper + wrapper + resolved


def _local_python(command: list[str], venvs: Path) -> tuple[list[str], list[str]]:
    """The command without its pip preamble, and the packages wrapper it needs (if any)."""
    if not (
        len(command) > 4
        and command[:2] == ["sh", "-c"]
        and "pip install" in command[2]
        and '"$0" "$@"' in command[2]
    ):
        return command, []
    wanted = pip_requests(command[2])
    interpreter, wrapper = sys.executable, []
    if wanted.packages:
        venv = packages.venv_dir(venvs, wanted.packages, wanted.index_urls)
        interpreter = packages.python_of(venv)
        wrapper = packages.command(venv, wanted.packages, wanted.index_urls, wanted.trusted_hosts)
    command = command[3:]
    if command[:2] == ["sh", "-ec"] and _EXECUTOR_MAIN.search(command[2]):
        command[2] = _EXECUTOR_MAIN.sub(f"{shlex.quote(interpreter)} -m kfp.dsl.executor_main", command[2])
    return command, wrapper


@dataclass
class PipRequests:
    packages: list[str] = field(default_factory=list)
    index_urls: list[str] = field(default_factory=list)
    trusted_hosts: list[str] = field(default_factory=list)


def pip_requests(preamble: str) -> PipRequests:
    """packages_to_install and pip_index_urls from a kfp preamble (its kfp install left out)."""
    wanted = PipRequests()
    for step in preamble.split("&&"):
        if "pip install" not in step or "'kfp==" in step or "kfp==" in step.split():
            continue
        words = shlex.split(step[step.index("pip install") + len("pip install") :])
        options = {
            "--index-url": wanted.index_urls,
            "--extra-index-url": wanted.index_urls,
            "--trusted-host": wanted.trusted_hosts,
        }
        pending = None
        for word in words:
            if pending is not None:
                pending.append(word)
                pending = None
            elif word in options:
                pending = options[word]
            elif not word.startswith("-"):
                wanted.packages.append(word)
    wanted.index_urls = list(dict.fromkeys(wanted.index_urls))
    wanted.trusted_hosts = list(dict.fromkeys(wanted.trusted_hosts))
    return wanted


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
        if reported.get("custom_path") and not files.outputs_dir.startswith("s3://"):
            # (a pod's launcher uploaded it from the custom path itself)
            root.adopt(reported["custom_path"], uri)
        artifacts[name] = [
            runtime_artifact(name, spec.get("artifactType", {}), uri, reported.get("metadata"))
        ]
    return {"parameters": parameters, "artifacts": artifacts}
