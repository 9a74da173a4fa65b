"""kfp-kubernetes (PlatformSpec) settings of one task, applied to the Job that runs it.

The input is a task's KubernetesExecutorConfig as JSON (platform_spec.platforms.kubernetes.
deploymentSpec.executors[<executor>]) whose name parameters the engine has already resolved to names
(secretName, configMapName, pvcName). Each field maps to the pod as KFP's driver maps it:

    secretAsEnv / configMapAsEnv        env valueFrom secretKeyRef / configMapKeyRef
    secretAsVolume / configMapAsVolume  a volume and its mount
    pvcMount                            a persistentVolumeClaim volume and its mount
    nodeSelector, tolerations, nodeAffinity (preferred with a weight, else required)
    podMetadata                         pod labels and annotations
    imagePullSecret, imagePullPolicy    pod imagePullSecrets, the container's imagePullPolicy
    emptyDirMounts, genericEphemeralVolume, fieldPathAsEnv, activeDeadlineSeconds

One field is the run's, not the executor's: `workspace` ({"pvcName", "mountPath"}), the PipelineConfig
workspace claim (see `workspace_claim_inputs`), mounted as volume "kfp-workspace" in every container of
the pod (the uploader too, so an output set_path'd into the workspace is uploaded from there).
"""

from __future__ import annotations

import re

APPLIED_FIELDS = (
    "secretAsEnv",
    "secretAsVolume",
    "configMapAsEnv",
    "configMapAsVolume",
    "pvcMount",
    "nodeSelector",
    "tolerations",
    "nodeAffinity",
    "podMetadata",
    "imagePullSecret",
    "imagePullPolicy",
    "emptyDirMounts",
    "fieldPathAsEnv",
    "activeDeadlineSeconds",
    "genericEphemeralVolume",
    "workspace",
)
WORKSPACE_VOLUME = "kfp-workspace"  # as KFP names it
DEFAULT_WORKSPACE_SIZE = "10Gi"  # KFP's fallback when neither the pipeline nor the server sets one
_WORKSPACE_PATCH_FIELDS = ("accessModes", "storageClassName")  # all KFP lets pvcSpecPatch change


def apply(job: dict, config: dict) -> None:
    """Change `job` (a batch/v1 Job manifest whose first container is the task) by `config`."""
    unknown = sorted(set(config) - set(APPLIED_FIELDS))
    if unknown:
        raise ValueError(f"kfp-kubernetes setting(s) {', '.join(unknown)} are not supported by this runner")
    template = job["spec"]["template"]
    pod, main = template["spec"], template["spec"]["containers"][0]
    _env(main, config)
    _volumes(pod, main, config)
    _scheduling(pod, config)
    if config.get("workspace"):
        _mount_workspace(pod, config["workspace"])
    metadata = config.get("podMetadata") or {}
    template.setdefault("metadata", {})
    template["metadata"]["labels"] = {**metadata.get("labels", {}), **template["metadata"].get("labels", {})}
    if metadata.get("annotations"):
        template["metadata"]["annotations"] = dict(metadata["annotations"])
    if config.get("imagePullSecret"):
        pod["imagePullSecrets"] = [{"name": item["secretName"]} for item in config["imagePullSecret"]]
    if config.get("imagePullPolicy"):
        main["imagePullPolicy"] = config["imagePullPolicy"]
    if config.get("activeDeadlineSeconds"):
        job["spec"]["activeDeadlineSeconds"] = int(config["activeDeadlineSeconds"])


def _env(main: dict, config: dict) -> None:
    env = main.setdefault("env", [])
    for item in config.get("secretAsEnv", []):
        for pair in item.get("keyToEnv", []):
            reference = {
                "name": item["secretName"],
                "key": pair["secretKey"],
                "optional": bool(item.get("optional")),
            }
            env.append({"name": pair["envVar"], "valueFrom": {"secretKeyRef": reference}})
    for item in config.get("configMapAsEnv", []):
        for pair in item.get("keyToEnv", []):
            reference = {
                "name": item["configMapName"],
                "key": pair["configMapKey"],
                "optional": bool(item.get("optional")),
            }
            env.append({"name": pair["envVar"], "valueFrom": {"configMapKeyRef": reference}})
    for item in config.get("fieldPathAsEnv", []):
        env.append({"name": item["name"], "valueFrom": {"fieldRef": {"fieldPath": item["fieldPath"]}}})


def _volumes(pod: dict, main: dict, config: dict) -> None:
    volumes, mounts = pod.setdefault("volumes", []), main.setdefault("volumeMounts", [])

    def add(prefix: str, name: str, source: dict, mount_path: str) -> None:
        volume = _volume_name(prefix, name, volumes)
        volumes.append({"name": volume, **source})
        mounts.append({"name": volume, "mountPath": mount_path})

    for item in config.get("secretAsVolume", []):
        source = {"secretName": item["secretName"], "optional": bool(item.get("optional"))}
        add("secret", item["secretName"], {"secret": source}, item["mountPath"])
    for item in config.get("configMapAsVolume", []):
        source = {"name": item["configMapName"], "optional": bool(item.get("optional"))}
        add("configmap", item["configMapName"], {"configMap": source}, item["mountPath"])
    for item in config.get("pvcMount", []):
        add(
            "pvc",
            item["pvcName"],
            {"persistentVolumeClaim": {"claimName": item["pvcName"]}},
            item["mountPath"],
        )
    for item in config.get("emptyDirMounts", []):
        source = {key: item[key] for key in ("medium", "sizeLimit") if item.get(key)}
        add("", item["volumeName"], {"emptyDir": source}, item["mountPath"])
    for item in config.get("genericEphemeralVolume", []):
        add(
            "",
            item["volumeName"],
            {"ephemeral": {"volumeClaimTemplate": _claim_template(item)}},
            item["mountPath"],
        )


def _claim_template(item: dict) -> dict:
    spec = {
        "accessModes": item.get("accessModes") or ["ReadWriteOnce"],
        "resources": {"requests": {"storage": item["size"]}},
    }
    if item.get("storageClassName") and not item.get("defaultStorageClass"):
        spec["storageClassName"] = item["storageClassName"]
    template = {"spec": spec}
    if item.get("metadata"):
        template["metadata"] = {key: value for key, value in item["metadata"].items() if value}
    return template


def _volume_name(prefix: str, name: str, taken: list[dict]) -> str:
    base = re.sub(r"[^a-z0-9-]+", "-", f"{prefix}-{name}".lower()).strip("-")[:55] or "volume"
    names, candidate, index = {volume["name"] for volume in taken}, base, 1
    while candidate in names:
        index += 1
        candidate = f"{base}-{index}"
    return candidate


def _scheduling(pod: dict, config: dict) -> None:
    labels = (config.get("nodeSelector") or {}).get("labels")
    if labels:
        pod["nodeSelector"] = dict(labels)
    tolerations = [
        {key: item[key] for key in ("key", "operator", "value", "effect", "tolerationSeconds") if key in item}
        for item in config.get("tolerations", [])
    ]
    if tolerations:
        pod["tolerations"] = tolerations
    required, preferred = [], []
    for item in config.get("nodeAffinity", []):
        term = {key: item[key] for key in ("matchExpressions", "matchFields") if item.get(key)}
        if item.get("weight"):
            preferred.append({"weight": int(item["weight"]), "preference": term})
        else:
            required.append(term)
    node_affinity = {}
    if required:
        node_affinity["requiredDuringSchedulingIgnoredDuringExecution"] = {"nodeSelectorTerms": required}
    if preferred:
        node_affinity["preferredDuringSchedulingIgnoredDuringExecution"] = preferred
    if node_affinity:
        pod["affinity"] = {"nodeAffinity": node_affinity}


def _mount_workspace(pod: dict, workspace: dict) -> None:
    claim = {"persistentVolumeClaim": {"claimName": workspace["pvcName"]}}
    pod.setdefault("volumes", []).append({"name": WORKSPACE_VOLUME, **claim})
    for container in pod["containers"]:
        mount = {"name": WORKSPACE_VOLUME, "mountPath": workspace["mountPath"]}
        container.setdefault("volumeMounts", []).append(mount)


def workspace_claim_inputs(workspace: dict) -> dict:
    """`persistent_volume_claim` inputs for a run's workspace: its size (KFP's 10Gi by default) and the
    pvcSpecPatch, which may only set accessModes and storageClassName, as KFP allows."""
    patch = (workspace.get("kubernetes") or {}).get("pvcSpecPatch") or {}
    unknown = sorted(set(patch) - set(_WORKSPACE_PATCH_FIELDS))
    if unknown:
        raise ValueError(
            f"workspace pvcSpecPatch: unknown field(s) {', '.join(unknown)}; KFP allows only "
            f"{' and '.join(_WORKSPACE_PATCH_FIELDS)}"
        )
    return {
        "size": workspace.get("size") or DEFAULT_WORKSPACE_SIZE,
        "access_modes": patch.get("accessModes") or ["ReadWriteOnce"],
        "storage_class_name": patch.get("storageClassName"),
    }


def persistent_volume_claim(name: str, inputs: dict) -> dict:
    """The PersistentVolumeClaim kfp-kubernetes' CreatePVC asks for (its inputs as the task got them)."""
    spec = {
        "accessModes": list(inputs["access_modes"]),
        "resources": {"requests": {"storage": inputs["size"]}},
    }
    if inputs.get("storage_class_name"):
        spec["storageClassName"] = inputs["storage_class_name"]
    if inputs.get("volume_name"):
        spec["volumeName"] = inputs["volume_name"]
    if inputs.get("data_source"):
        spec["dataSource"] = dict(inputs["data_source"])
    metadata = {
        "name": name,
        **({"annotations": dict(inputs["annotations"])} if inputs.get("annotations") else {}),
    }
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": metadata, "spec": spec}
