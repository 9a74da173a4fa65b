"""What would make `helm upgrade` fail or break later: immutable fields that change, and APIs that the
target Kubernetes version no longer serves.

Each finding is a CheckResult (component = the object) whose detail says what to do.
"""

from __future__ import annotations

from mlplatform.checks.base import FAILED, PASSED, WARNING, CheckResult
from mlplatform.release.manifests import ObjectKey, get_path, index

# kind -> (field paths the API server refuses to change, what to do about it)
IMMUTABLE_FIELDS: dict[str, tuple[tuple[str, ...], str]] = {
    "Deployment": (("spec.selector",), ("delete the Deployment first (kubectl delete deployment NAME "
                                       "--cascade=orphan) or keep the old selector labels")),
    "DaemonSet": (("spec.selector",), "delete the DaemonSet first (--cascade=orphan) or keep the old selector"),
    "ReplicaSet": (("spec.selector",), "delete the ReplicaSet first or keep the old selector"),
    "StatefulSet": (("spec.selector", "spec.serviceName", "spec.volumeClaimTemplates", "spec.podManagementPolicy"),
                    ("delete the StatefulSet with --cascade=orphan (its pods and volumes stay) and let the upgrade "
                    "recreate it, or revert the change")),
    "Job": (("spec.selector", "spec.template"), "delete the Job before upgrading, or give it a new name"),
    "Service": (("spec.clusterIP",), "remove spec.clusterIP from the values, or delete the Service first"),
    "PersistentVolumeClaim": (("spec.storageClassName", "spec.accessModes", "spec.volumeName", "spec.volumeMode",
                               "spec.selector"),
                              "migrate the data to a new claim: only spec.resources.requests.storage may grow"),
    "RoleBinding": (("roleRef",), "delete the RoleBinding first; roleRef cannot change"),
    "ClusterRoleBinding": (("roleRef",), "delete the ClusterRoleBinding first; roleRef cannot change"),
}

# (group/version, kind or "*") -> the Kubernetes minor version that no longer serves it, and the replacement.
REMOVED_APIS: dict[tuple[str, str], tuple[str, str]] = {
    ("extensions/v1beta1", "Deployment"): ("1.16", "apps/v1"),
    ("extensions/v1beta1", "DaemonSet"): ("1.16", "apps/v1"),
    ("extensions/v1beta1", "ReplicaSet"): ("1.16", "apps/v1"),
    ("extensions/v1beta1", "NetworkPolicy"): ("1.16", "networking.k8s.io/v1"),
    ("extensions/v1beta1", "PodSecurityPolicy"): ("1.16", "policy/v1beta1, itself removed in 1.25"),
    ("apps/v1beta1", "*"): ("1.16", "apps/v1"),
    ("apps/v1beta2", "*"): ("1.16", "apps/v1"),
    ("extensions/v1beta1", "Ingress"): ("1.22", "networking.k8s.io/v1"),
    ("networking.k8s.io/v1beta1", "*"): ("1.22", "networking.k8s.io/v1"),
    ("rbac.authorization.k8s.io/v1beta1", "*"): ("1.22", "rbac.authorization.k8s.io/v1"),
    ("admissionregistration.k8s.io/v1beta1", "*"): ("1.22", "admissionregistration.k8s.io/v1"),
    ("apiextensions.k8s.io/v1beta1", "*"): ("1.22", "apiextensions.k8s.io/v1"),
    ("apiregistration.k8s.io/v1beta1", "*"): ("1.22", "apiregistration.k8s.io/v1"),
    ("certificates.k8s.io/v1beta1", "*"): ("1.22", "certificates.k8s.io/v1"),
    ("coordination.k8s.io/v1beta1", "*"): ("1.22", "coordination.k8s.io/v1"),
    ("scheduling.k8s.io/v1beta1", "*"): ("1.22", "scheduling.k8s.io/v1"),
    ("storage.k8s.io/v1beta1", "StorageClass"): ("1.22", "storage.k8s.io/v1"),
    ("storage.k8s.io/v1beta1", "CSIDriver"): ("1.22", "storage.k8s.io/v1"),
    ("storage.k8s.io/v1beta1", "CSINode"): ("1.22", "storage.k8s.io/v1"),
    ("storage.k8s.io/v1beta1", "VolumeAttachment"): ("1.22", "storage.k8s.io/v1"),
    ("batch/v1beta1", "CronJob"): ("1.25", "batch/v1"),
    ("discovery.k8s.io/v1beta1", "*"): ("1.25", "discovery.k8s.io/v1"),
    ("events.k8s.io/v1beta1", "*"): ("1.25", "events.k8s.io/v1"),
    ("autoscaling/v2beta1", "*"): ("1.25", "autoscaling/v2"),
    ("policy/v1beta1", "PodDisruptionBudget"): ("1.25", "policy/v1"),
    ("policy/v1beta1", "PodSecurityPolicy"): ("1.25", "Pod Security Admission"),
    ("node.k8s.io/v1beta1", "*"): ("1.25", "node.k8s.io/v1"),
    ("autoscaling/v2beta2", "*"): ("1.26", "autoscaling/v2"),
    ("flowcontrol.apiserver.k8s.io/v1beta1", "*"): ("1.26", "flowcontrol.apiserver.k8s.io/v1"),
    ("storage.k8s.io/v1beta1", "CSIStorageCapacity"): ("1.27", "storage.k8s.io/v1"),
    ("flowcontrol.apiserver.k8s.io/v1beta2", "*"): ("1.29", "flowcontrol.apiserver.k8s.io/v1"),
    ("flowcontrol.apiserver.k8s.io/v1beta3", "*"): ("1.32", "flowcontrol.apiserver.k8s.io/v1"),
}


def minor(version: str) -> tuple[int, int]:
    """"v1.31.2" or "1.31" -> (1, 31)."""
    parts = version.lstrip("v").split(".")
    return int(parts[0]), int("".join(ch for ch in parts[1] if ch.isdigit()))


def removal(api_version: str, kind: str) -> tuple[str, str] | None:
    return REMOVED_APIS.get((api_version, kind)) or REMOVED_APIS.get((api_version, "*"))


def _changed_field(kind: str, path: str, old, new) -> bool:
    if kind == "Service" and path == "spec.clusterIP" and (not old or not new):
        return False  # only an explicit clusterIP that changes is refused; the server fills one in
    return old != new


def immutable_changes(current: list[dict], proposed: list[dict], namespace: str = "") -> list[CheckResult]:
    before, after = index(current, namespace), index(proposed, namespace)
    findings = []
    for key in sorted(set(before) & set(after)):
        rule = IMMUTABLE_FIELDS.get(key.kind)
        if rule is None:
            continue
        paths, fix = rule
        changed = [path for path in paths
                   if _changed_field(key.kind, path, get_path(before[key], path), get_path(after[key], path))]
        if changed:
            findings.append(CheckResult("immutable-fields", str(key), FAILED,
                                        f"{', '.join(changed)} would change, and Kubernetes refuses that: "
                                        f"helm upgrade fails. {fix[0].upper()}{fix[1:]}"))
        findings += _immutable_data(key, before[key], after[key])
    return findings


def _immutable_data(key: ObjectKey, old: dict, new: dict) -> list[CheckResult]:
    if key.kind not in ("ConfigMap", "Secret") or not old.get("immutable"):
        return []
    fields = ("data", "stringData", "binaryData")
    if all(old.get(field) == new.get(field) for field in fields):
        return []
    return [CheckResult("immutable-fields", str(key), FAILED,
                        "the object is immutable (immutable: true) and its data would change: give it a new name "
                        "(e.g. a content hash suffix) instead")]


def removed_apis(proposed: list[dict], current: list[dict], target: str) -> list[CheckResult]:
    target_minor = minor(target)
    findings = []
    for label, objects, status in (("the upgrade would apply", proposed, FAILED),
                                   ("the release has", current, WARNING)):
        for obj in objects:
            api_version, kind = obj.get("apiVersion", ""), obj.get("kind", "")
            found = removal(api_version, kind)
            if found and target_minor >= minor(found[0]):
                removed_in, replacement = found
                name = (obj.get("metadata") or {}).get("name", "?")
                findings.append(CheckResult(
                    "removed-apis", f"{kind} {name}", status,
                    f"{label} {api_version} {kind}, which Kubernetes {removed_in} removed (target {target}): "
                    f"use {replacement}"))
    return findings


def upgrade_findings(current: list[dict], proposed: list[dict], target: str, namespace: str = "") -> list[CheckResult]:
    findings = immutable_changes(current, proposed, namespace) + removed_apis(proposed, current, target)
    if not any(f.check == "immutable-fields" for f in findings):
        findings.insert(0, CheckResult("immutable-fields", "release", PASSED,
                                       f"no immutable field changes across {len(proposed)} objects"))
    if not any(f.check == "removed-apis" for f in findings):
        findings.append(CheckResult("removed-apis", "release", PASSED,
                                    f"every API the upgrade uses is served by Kubernetes {target}"))
    return findings
