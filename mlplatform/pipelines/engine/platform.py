"""kfp-kubernetes PlatformSpec for one task: its executor's settings with names resolved, what the local
runner cannot apply, and the CreatePVC / DeletePVC steps (which run no container).

Name parameters (secretNameParameter, configMapNameParameter, pvcNameParameter, and pvcMount's older
constant / taskOutputParameter / componentInputParameter fields) become plain names: a constant, a
pipeline or task input, or an upstream task's output, as KFP's driver resolves them.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

from mlplatform.pipelines.errors import InvalidInput

PLATFORM_IMAGES = {"argostub/createpvc": "create", "argostub/deletepvc": "delete"}
_NAME_FIELDS = {
    "secretAsEnv": "secretName",
    "secretAsVolume": "secretName",
    "configMapAsEnv": "configMapName",
    "configMapAsVolume": "configMapName",
    "imagePullSecret": "secretName",
    "pvcMount": "pvcName",
}


def executor_config(platform_spec: dict | None, executor_label: str) -> dict:
    kubernetes = ((platform_spec or {}).get("platforms") or {}).get("kubernetes") or {}
    return dict((kubernetes.get("deploymentSpec") or {}).get("executors", {}).get(executor_label) or {})


def workspace_of(platform_spec: dict | None) -> dict | None:
    """The PipelineConfig workspace (platforms.kubernetes.pipelineConfig.workspace), if the run has one."""
    kubernetes = ((platform_spec or {}).get("platforms") or {}).get("kubernetes") or {}
    return (kubernetes.get("pipelineConfig") or {}).get("workspace")


def workspace_claim_name(run_id: str) -> str:
    """The run's workspace PVC ("kfp-workspace", as KFP's volume, then the run id)."""
    return f"kfp-workspace-{run_id}"


def resolved(config: dict, value_of: Callable[[dict], object]) -> dict:
    """`config` with every name parameter replaced by the name. value_of(parameter spec) -> value."""
    config = copy.deepcopy(config)
    for field, name_field in _NAME_FIELDS.items():
        for item in config.get(field, []):
            parameter = item.get(f"{name_field}Parameter") or _legacy_pvc_source(item)
            if parameter:
                item[name_field] = value_of(parameter)
            if not item.get(name_field):
                raise InvalidInput(f"kfp-kubernetes {field}: no {name_field} (is the parameter set?)")
    return config


def _legacy_pvc_source(item: dict) -> dict | None:
    if "constant" in item:
        return {"runtimeValue": {"constant": item["constant"]}}
    for key in ("taskOutputParameter", "componentInputParameter"):
        if key in item:
            return {key: item[key]}
    return None


def parameter_value(spec: dict, task_inputs: dict, run_parameters: dict, sibling_output: Callable) -> object:
    """The value a platform name parameter stands for."""
    if "runtimeValue" in spec:
        return spec["runtimeValue"].get("constant")
    if "componentInputParameter" in spec:
        name = spec["componentInputParameter"]
        return task_inputs.get(name, run_parameters.get(name))
    if "taskOutputParameter" in spec:
        reference = spec["taskOutputParameter"]
        return sibling_output(reference["producerTask"], reference["outputParameterKey"])
    raise InvalidInput(f"kfp-kubernetes: cannot resolve parameter {spec}")


# What the local runner does with each setting: everything here is reported once per run as ignored.
LOCAL_IGNORED = {
    "secretAsEnv": "secrets as env",
    "secretAsVolume": "secrets as volumes",
    "configMapAsEnv": "config maps as env",
    "configMapAsVolume": "config maps as volumes",
    "pvcMount": "PVC mounts",
    "nodeSelector": "node selector",
    "tolerations": "tolerations",
    "nodeAffinity": "node affinity",
    "podMetadata": "pod labels/annotations",
    "imagePullSecret": "image pull secrets",
    "imagePullPolicy": "image pull policy",
    "emptyDirMounts": "empty-dir mounts",
    "fieldPathAsEnv": "field paths as env",
    "genericEphemeralVolume": "generic ephemeral volumes",
}


def ignored_locally(config: dict, container: dict) -> list[str]:
    """The settings of a task the local runner cannot apply (activeDeadlineSeconds it enforces)."""
    ignored = [label for field, label in LOCAL_IGNORED.items() if config.get(field)]
    accelerator = (container.get("resources") or {}).get("accelerator") or {}
    if accelerator.get("resourceType") or accelerator.get("type"):
        ignored.append("accelerator type/limit")
    resources = container.get("resources") or {}
    if any(
        key in resources for key in ("resourceMemoryLimit", "memoryLimit", "resourceCpuLimit", "cpuLimit")
    ):
        ignored.append("cpu/memory limits")
    return ignored
