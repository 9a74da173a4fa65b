"""The resource types the server serves (built-in and from CRDs) and the discovery documents for them."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field

VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
SUBRESOURCE_VERBS = {"status": ["get", "patch", "update"], "scale": ["get", "patch", "update"], "log": ["get"]}


@dataclass(frozen=True)
class ResourceType:
    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool = True
    short_names: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()
    builtin: bool = True   # built-in types know their strategic-merge keys; custom resources do not
    categories: tuple[str, ...] = field(default=(), compare=False)

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def group_resource(self) -> str:
        """How errors name the type: `pods`, `deployments.apps`."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def has_status(self) -> bool:
        return "status" in self.subresources

    def discovery(self) -> list[dict]:
        """The APIResource entries of this type and its subresources."""
        entries = [{"name": self.plural, "singularName": self.kind.lower(), "namespaced": self.namespaced,
                    "kind": self.kind, "verbs": VERBS, **({"shortNames": list(self.short_names)} if self.short_names else {}),
                    **({"categories": list(self.categories)} if self.categories else {})}]
        for sub in self.subresources:
            entry = {"name": f"{self.plural}/{sub}", "singularName": "", "namespaced": self.namespaced,
                     "kind": self.kind, "verbs": SUBRESOURCE_VERBS[sub]}
            if sub == "scale":
                entry.update(group="autoscaling", version="v1", kind="Scale")
            entries.append(entry)
        return entries


def _builtin(group: str, version: str, specs: list[tuple]) -> list[ResourceType]:
    return [ResourceType(group, version, plural, kind, namespaced, tuple(short), tuple(subs), categories=("all",)
                         if plural in ALL_CATEGORY else ())
            for plural, kind, namespaced, short, subs in specs]


ALL_CATEGORY = {"pods", "services", "deployments", "statefulsets", "replicasets", "daemonsets", "jobs", "cronjobs",
                "horizontalpodautoscalers"}
CLUSTER, NAMESPACED = False, True

BUILTIN_TYPES: list[ResourceType] = [
    *_builtin("", "v1", [
        ("namespaces", "Namespace", CLUSTER, ["ns"], ["status"]),
        ("nodes", "Node", CLUSTER, ["no"], ["status"]),
        ("persistentvolumes", "PersistentVolume", CLUSTER, ["pv"], ["status"]),
        ("pods", "Pod", NAMESPACED, ["po"], ["status", "log"]),
        ("services", "Service", NAMESPACED, ["svc"], ["status"]),
        ("endpoints", "Endpoints", NAMESPACED, ["ep"], []),
        ("secrets", "Secret", NAMESPACED, [], []),
        ("configmaps", "ConfigMap", NAMESPACED, ["cm"], []),
        ("serviceaccounts", "ServiceAccount", NAMESPACED, ["sa"], []),
        ("persistentvolumeclaims", "PersistentVolumeClaim", NAMESPACED, ["pvc"], ["status"]),
        ("events", "Event", NAMESPACED, ["ev"], []),
        ("resourcequotas", "ResourceQuota", NAMESPACED, ["quota"], ["status"]),
        ("limitranges", "LimitRange", NAMESPACED, ["limits"], []),
    ]),
    *_builtin("apps", "v1", [
        ("deployments", "Deployment", NAMESPACED, ["deploy"], ["status", "scale"]),
        ("statefulsets", "StatefulSet", NAMESPACED, ["sts"], ["status", "scale"]),
        ("replicasets", "ReplicaSet", NAMESPACED, ["rs"], ["status", "scale"]),
        ("daemonsets", "DaemonSet", NAMESPACED, ["ds"], ["status"]),
        ("controllerrevisions", "ControllerRevision", NAMESPACED, [], []),
    ]),
    *_builtin("batch", "v1", [
        ("jobs", "Job", NAMESPACED, [], ["status"]),
        ("cronjobs", "CronJob", NAMESPACED, ["cj"], ["status"]),
    ]),
    *_builtin("rbac.authorization.k8s.io", "v1", [
        ("roles", "Role", NAMESPACED, [], []),
        ("rolebindings", "RoleBinding", NAMESPACED, [], []),
        ("clusterroles", "ClusterRole", CLUSTER, [], []),
        ("clusterrolebindings", "ClusterRoleBinding", CLUSTER, [], []),
    ]),
    *_builtin("policy", "v1", [("poddisruptionbudgets", "PodDisruptionBudget", NAMESPACED, ["pdb"], ["status"])]),
    *_builtin("autoscaling", "v2", [
        ("horizontalpodautoscalers", "HorizontalPodAutoscaler", NAMESPACED, ["hpa"], ["status"])]),
    *_builtin("networking.k8s.io", "v1", [
        ("ingresses", "Ingress", NAMESPACED, ["ing"], ["status"]),
        ("networkpolicies", "NetworkPolicy", NAMESPACED, ["netpol"], []),
        ("ingressclasses", "IngressClass", CLUSTER, [], []),
    ]),
    *_builtin("storage.k8s.io", "v1", [("storageclasses", "StorageClass", CLUSTER, ["sc"], [])]),
    *_builtin("coordination.k8s.io", "v1", [("leases", "Lease", NAMESPACED, [], [])]),
    *_builtin("apiextensions.k8s.io", "v1", [
        ("customresourcedefinitions", "CustomResourceDefinition", CLUSTER, ["crd", "crds"], ["status"])]),
]


def crd_types(crd: dict) -> list[ResourceType]:
    """The resource types a CustomResourceDefinition serves: one per served version."""
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    return [ResourceType(spec["group"], version["name"], names["plural"], names["kind"],
                         namespaced=spec.get("scope", "Namespaced") == "Namespaced",
                         short_names=tuple(names.get("shortNames") or ()),
                         subresources=tuple(sorted((version.get("subresources") or {}).keys())),
                         builtin=False, categories=tuple(names.get("categories") or ()))
            for version in spec.get("versions") or [] if version.get("served", True)]


class ResourceTypes:
    """The served types, keyed by group/version/plural. CRDs add and remove theirs at run time."""

    def __init__(self):
        self._lock = threading.Lock()
        self._types: dict[tuple[str, str, str], ResourceType] = {}
        self._from_crd: dict[str, list[ResourceType]] = {}
        for resource in BUILTIN_TYPES:
            self._types[(resource.group, resource.version, resource.plural)] = resource

    def find(self, group: str, version: str, plural: str) -> ResourceType | None:
        with self._lock:
            return self._types.get((group, version, plural))

    def by_kind(self, api_version: str, kind: str) -> ResourceType | None:
        group, _, version = api_version.rpartition("/")
        with self._lock:
            return next((r for r in self._types.values() if (r.group, r.version, r.kind) == (group, version, kind)), None)

    def of_group_resource(self, group: str, plural: str) -> list[ResourceType]:
        with self._lock:
            return [r for r in self._types.values() if (r.group, r.plural) == (group, plural)]

    def served(self) -> list[ResourceType]:
        with self._lock:
            return list(self._types.values())

    def set_crd(self, crd: dict) -> None:
        name = crd["metadata"]["name"]
        with self._lock:
            for old in self._from_crd.pop(name, []):
                self._types.pop((old.group, old.version, old.plural), None)
            added = crd_types(crd)
            for resource in added:
                self._types[(resource.group, resource.version, resource.plural)] = resource
            self._from_crd[name] = added

    def remove_crd(self, name: str) -> None:
        with self._lock:
            for old in self._from_crd.pop(name, []):
                self._types.pop((old.group, old.version, old.plural), None)

    # --- discovery documents -------------------------------------------------------------------

    def group_versions(self) -> dict[str, list[str]]:
        """group -> its versions; the first one is the preferred version."""
        groups: dict[str, list[str]] = {}
        for resource in self.served():
            versions = groups.setdefault(resource.group, [])
            if resource.version not in versions:
                versions.append(resource.version)
        for versions in groups.values():
            versions.sort(key=_version_priority)
        return groups

    def api_group_list(self) -> dict:
        groups = []
        for group, versions in sorted(self.group_versions().items()):
            if not group:
                continue
            entries = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
            groups.append({"name": group, "versions": entries, "preferredVersion": entries[0]})
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}

    def api_group(self, group: str) -> dict | None:
        versions = self.group_versions().get(group)
        if not versions or not group:
            return None
        entries = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
        return {"kind": "APIGroup", "apiVersion": "v1", "name": group, "versions": entries,
                "preferredVersion": entries[0]}

    def api_resource_list(self, group: str, version: str) -> dict | None:
        resources = [r for r in self.served() if (r.group, r.version) == (group, version)]
        if not resources:
            return None
        return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": resources[0].api_version,
                "resources": [entry for r in sorted(resources, key=lambda r: r.plural) for entry in r.discovery()]}


def _version_priority(version: str) -> tuple:
    """Kubernetes' version order: GA before beta before alpha, higher numbers first."""
    match = re.fullmatch(r"v(\d+)(?:(alpha|beta)(\d+))?", version)
    if not match:
        return (3, version)
    major, stage, minor = match.groups()
    rank = {"": 0, "beta": 1, "alpha": 2}[stage or ""]
    return (rank, -int(major), -int(minor or 0))
