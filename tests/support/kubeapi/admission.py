"""What the real API server does to an object on every write: defaulting and validation.

Only what clients in this project can observe is covered: defaults that helm's readiness checks and
kstatus read (replicas, strategies, Job limits, a Service's clusterIP), and the validation errors that
catch broken manifests and upgrades that could never apply (names, labels, selectors that do not
match their template, immutable fields).
"""

from __future__ import annotations

import base64
import copy
import re

from tests.support.kubeapi.errors import invalid
from tests.support.kubeapi.resources import ResourceType
from tests.support.kubeapi.selectors import label_matcher, match_labels_selector

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
CONFIG_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
WORKLOADS = {("apps", "deployments"), ("apps", "statefulsets"), ("apps", "replicasets"), ("apps", "daemonsets")}
DNS_LABEL_NAMED = {("", "namespaces"), ("", "services")}
STATEFULSET_MUTABLE = {"replicas", "template", "updateStrategy", "persistentVolumeClaimRetentionPolicy",
                       "minReadySeconds", "ordinals", "revisionHistoryLimit"}


def _key(resource: ResourceType) -> tuple[str, str]:
    return (resource.group, resource.plural)


# --- defaulting ----------------------------------------------------------------------------------------

def apply_defaults(resource: ResourceType, obj: dict, current: dict | None, allocate_ip) -> None:
    """Fill what the server fills on every write. `current` is the stored object on an update."""
    spec = obj.setdefault("spec", {}) if _key(resource) in _SPEC_DEFAULTS else obj.get("spec")
    for default in _SPEC_DEFAULTS.get(_key(resource), ()):
        default(spec, obj, current, allocate_ip)
    if _key(resource) == ("", "secrets"):
        _secret_string_data(obj)
    if _key(resource) == ("", "namespaces"):
        obj["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = obj["metadata"]["name"]
        obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
        obj.setdefault("status", {}).setdefault("phase", "Active")


def _replicas(spec, obj, current, allocate_ip):
    spec.setdefault("replicas", 1)


def _deployment_strategy(spec, obj, current, allocate_ip):
    strategy = spec.setdefault("strategy", {"type": "RollingUpdate"})
    if strategy.get("type", "RollingUpdate") == "RollingUpdate":
        strategy["type"] = "RollingUpdate"
        strategy.setdefault("rollingUpdate", {}).setdefault("maxUnavailable", "25%")
        strategy["rollingUpdate"].setdefault("maxSurge", "25%")
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("progressDeadlineSeconds", 600)


def _statefulset_strategy(spec, obj, current, allocate_ip):
    strategy = spec.setdefault("updateStrategy", {"type": "RollingUpdate"})
    if strategy.get("type", "RollingUpdate") == "RollingUpdate":
        strategy["type"] = "RollingUpdate"
        strategy.setdefault("rollingUpdate", {}).setdefault("partition", 0)
    spec.setdefault("podManagementPolicy", "OrderedReady")
    spec.setdefault("revisionHistoryLimit", 10)


def _job(spec, obj, current, allocate_ip):
    spec.setdefault("backoffLimit", 6)
    spec.setdefault("completions", 1)
    spec.setdefault("parallelism", 1)
    spec.setdefault("suspend", False)
    spec.setdefault("completionMode", "NonIndexed")
    if current is None and not spec.get("manualSelector"):
        uid, name = obj["metadata"]["uid"], obj["metadata"]["name"]
        spec["selector"] = {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
        labels = spec.setdefault("template", {}).setdefault("metadata", {}).setdefault("labels", {})
        labels.update({"batch.kubernetes.io/controller-uid": uid, "controller-uid": uid,
                       "batch.kubernetes.io/job-name": name, "job-name": name})


def _service(spec, obj, current, allocate_ip):
    spec.setdefault("type", "ClusterIP")
    old_ip = ((current or {}).get("spec") or {}).get("clusterIP")
    if spec["type"] != "ExternalName" and not spec.get("clusterIP"):
        spec["clusterIP"] = old_ip or allocate_ip()
    if spec.get("clusterIP"):
        spec["clusterIPs"] = [spec["clusterIP"]]
    spec.setdefault("sessionAffinity", "None")
    for port in spec.get("ports") or []:
        port.setdefault("protocol", "TCP")
        port.setdefault("targetPort", port.get("port"))


def _pod(spec, obj, current, allocate_ip):
    spec.setdefault("restartPolicy", "Always")
    if current is None:
        obj.setdefault("status", {}).setdefault("phase", "Pending")


def _pvc(spec, obj, current, allocate_ip):
    if current is None:
        obj.setdefault("status", {}).setdefault("phase", "Pending")


def _crd(spec, obj, current, allocate_ip):
    """The real server accepts the names and establishes the CRD almost at once; clients wait for it."""
    conditions = [{"type": kind, "status": "True", "reason": reason, "message": message,
                   "lastTransitionTime": obj["metadata"]["creationTimestamp"]}
                  for kind, reason, message in (("NamesAccepted", "NoConflicts", "no conflicts found"),
                                                ("Established", "InitialNamesAccepted", "the initial names have been accepted"))]
    status = obj.setdefault("status", {})
    status["conditions"] = conditions
    status["acceptedNames"] = copy.deepcopy(spec.get("names") or {})
    status["storedVersions"] = [v["name"] for v in spec.get("versions") or [] if v.get("storage")]


_SPEC_DEFAULTS = {
    ("apps", "deployments"): (_replicas, _deployment_strategy),
    ("apps", "statefulsets"): (_replicas, _statefulset_strategy),
    ("apps", "replicasets"): (_replicas,),
    ("batch", "jobs"): (_job,),
    ("", "services"): (_service,),
    ("", "pods"): (_pod,),
    ("", "persistentvolumeclaims"): (_pvc,),
    ("apiextensions.k8s.io", "customresourcedefinitions"): (_crd,),
}


def _secret_string_data(obj: dict) -> None:
    string_data = obj.pop("stringData", None) or {}
    data = obj.setdefault("data", {}) if string_data else obj.get("data")
    for key, value in string_data.items():
        data[key] = base64.b64encode(str(value).encode()).decode()
    obj.setdefault("type", "Opaque")


# --- validation ----------------------------------------------------------------------------------------

def validate(resource: ResourceType, obj: dict, current: dict | None) -> None:
    """Raise 422 Invalid with every problem found."""
    causes = _metadata_problems(resource, obj)
    causes += _spec_problems(resource, obj)
    if current is not None:
        causes += _immutable_problems(resource, obj, current)
    if causes:
        raise invalid(resource, obj["metadata"].get("name", ""), causes)


def _metadata_problems(resource: ResourceType, obj: dict) -> list[tuple[str, str]]:
    meta = obj["metadata"]
    name = meta.get("name", "")
    causes = []
    pattern, limit = (DNS_LABEL, 63) if _key(resource) in DNS_LABEL_NAMED else (DNS_SUBDOMAIN, 253)
    if resource.builtin and (len(name) > limit or not pattern.match(name)):
        causes.append(("metadata.name", f"Invalid value: {name!r}: a lowercase RFC 1123 "
                                        f"{'label' if limit == 63 else 'subdomain'} of at most {limit} characters"))
    for field in ("labels", "annotations"):
        for key, value in (meta.get(field) or {}).items():
            if not _qualified_name(key):
                causes.append((f"metadata.{field}", f"Invalid value: {key!r}: not a valid qualified name"))
            if value is not None and not isinstance(value, str):
                causes.append((f"metadata.{field}.{key}", f"Invalid value: {value!r}: must be a string"))
            elif field == "labels" and value and (len(value) > 63 or not LABEL_NAME.match(value)):
                causes.append((f"metadata.labels.{key}", f"Invalid value: {value!r}: a valid label value must be "
                                                         "63 characters or less, alphanumeric, '-', '_' or '.'"))
    if _key(resource) in {("", "configmaps"), ("", "secrets")}:
        for field in ("data", "binaryData"):
            causes += [(f"{field}[{key}]", f"Invalid value: {key!r}: a valid config key must consist of "
                                           "alphanumeric characters, '-', '_' or '.'")
                       for key in (obj.get(field) or {}) if not CONFIG_KEY.match(key)]
    return causes


def _qualified_name(key: str) -> bool:
    prefix, _, name = key.rpartition("/")
    return bool(name) and len(name) <= 63 and bool(LABEL_NAME.match(name)) and (
        not prefix or (len(prefix) <= 253 and bool(DNS_SUBDOMAIN.match(prefix))))


def _spec_problems(resource: ResourceType, obj: dict) -> list[tuple[str, str]]:
    spec = obj.get("spec") or {}
    if _key(resource) in WORKLOADS:
        return _workload_problems(spec)
    if _key(resource) == ("batch", "jobs"):
        template = spec.get("template") or {}
        causes = _pod_spec_problems(template.get("spec") or {}, "spec.template.spec")
        if (template.get("spec") or {}).get("restartPolicy") not in ("Never", "OnFailure"):
            causes.append(("spec.template.spec.restartPolicy", 'Required value: valid values: "OnFailure", "Never"'))
        return causes
    if _key(resource) == ("", "pods"):
        return _pod_spec_problems(spec, "spec")
    return []


def _workload_problems(spec: dict) -> list[tuple[str, str]]:
    selector = spec.get("selector")
    template = spec.get("template") or {}
    causes = _pod_spec_problems(template.get("spec") or {}, "spec.template.spec")
    if not selector or not (selector.get("matchLabels") or selector.get("matchExpressions")):
        return causes + [("spec.selector", "Required value")]
    labels = {"metadata": {"labels": (template.get("metadata") or {}).get("labels") or {}}}
    if not label_matcher(match_labels_selector(selector))(labels):
        causes.append(("spec.template.metadata.labels", f"Invalid value: {labels['metadata']['labels']}: "
                                                        "`selector` does not match template `labels`"))
    return causes


def _pod_spec_problems(spec: dict, path: str) -> list[tuple[str, str]]:
    containers = spec.get("containers") or []
    if not containers:
        return [(f"{path}.containers", "Required value")]
    causes = []
    for field in ("initContainers", "containers"):
        for index, container in enumerate(spec.get(field) or []):
            for required in ("name", "image"):
                if not container.get(required):
                    causes.append((f"{path}.{field}[{index}].{required}", "Required value"))
    return causes


def _immutable_problems(resource: ResourceType, obj: dict, current: dict) -> list[tuple[str, str]]:
    spec, old = obj.get("spec") or {}, current.get("spec") or {}
    key = _key(resource)
    fields: list[str] = []
    if key in WORKLOADS or key == ("batch", "jobs"):
        fields.append("selector")
    if key == ("batch", "jobs"):
        fields.append("template")
    causes = [(f"spec.{field}", f"Invalid value: {spec.get(field)!r}: field is immutable")
              for field in fields if spec.get(field) != old.get(field)]
    if key == ("apps", "statefulsets"):
        changed = sorted(f for f in set(spec) | set(old) if f not in STATEFULSET_MUTABLE and spec.get(f) != old.get(f))
        if changed:
            causes.append(("spec", "Forbidden: updates to statefulset spec for fields other than 'replicas', "
                                   "'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' "
                                   f"and 'minReadySeconds' are forbidden (changed: {', '.join(changed)})"))
    if key == ("", "services") and old.get("clusterIP") and spec.get("clusterIP") != old.get("clusterIP"):
        causes.append(("spec.clusterIP", f"Invalid value: {spec.get('clusterIP')!r}: field is immutable"))
    if key == ("", "persistentvolumeclaims") and _without_requests(spec) != _without_requests(old):
        causes.append(("spec", "Forbidden: spec is immutable after creation except resources.requests "
                               "and volumeAttributesClassName for bound claims"))
    if key in {("", "configmaps"), ("", "secrets")} and current.get("immutable"):
        if any(obj.get(f) != current.get(f) for f in ("data", "binaryData", "immutable")):
            causes.append(("data", "Forbidden: field is immutable when `immutable` is set"))
    if key in {("rbac.authorization.k8s.io", "rolebindings"), ("rbac.authorization.k8s.io", "clusterrolebindings")}:
        if obj.get("roleRef") != current.get("roleRef"):
            causes.append(("roleRef", f"Invalid value: {obj.get('roleRef')!r}: cannot change roleRef"))
    return causes


def _without_requests(spec: dict) -> dict:
    spec = copy.deepcopy(spec)
    spec.pop("volumeAttributesClassName", None)
    (spec.get("resources") or {}).pop("requests", None)
    return spec
