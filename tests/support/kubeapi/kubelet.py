"""Kubelet-lite: the controllers and kubelet of a healthy cluster, reduced to "everything is ready now".

When enabled, after every change:
  - a Deployment gets a ReplicaSet for its current template (named <deployment>-<template hash>, owned by
    it, as helm 3's readiness check looks for), older ReplicaSets scale to 0, and its status reports every
    replica updated, ready and available with the Available and Progressing conditions;
  - StatefulSets, ReplicaSets and DaemonSets report all replicas ready at the observed generation;
  - PersistentVolumeClaims are Bound;
  - Pods with restartPolicy Always are Running and Ready (the Job executor runs the other pods);
  - LoadBalancer Services get an ingress IP.
Nothing runs: the containers of these workloads are never started.
"""

from __future__ import annotations

import hashlib
import json

from tests.support.kubeapi.store import Store, now

SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def template_hash(template: dict) -> str:
    number = int(hashlib.sha256(json.dumps(template, sort_keys=True).encode()).hexdigest(), 16)
    digits = []
    for _ in range(10):
        number, index = divmod(number, len(SAFE_ALPHABET))
        digits.append(SAFE_ALPHABET[index])
    return "".join(digits)


def owner_reference(obj: dict) -> dict:
    return {"apiVersion": obj["apiVersion"], "kind": obj["kind"], "name": obj["metadata"]["name"],
            "uid": obj["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}


def controlled_by(obj: dict, owner: dict) -> bool:
    return any(ref.get("uid") == owner["metadata"]["uid"] and ref.get("controller")
               for ref in obj["metadata"].get("ownerReferences") or [])


def conditions(existing: list | None, wanted: list[tuple[str, str, str]]) -> list[dict]:
    """Conditions of (type, reason, message), all True; unchanged ones keep their transition time."""
    before = {c.get("type"): c for c in existing or []}
    result = []
    for kind, reason, message in wanted:
        old = before.get(kind) or {}
        stamp = old.get("lastTransitionTime") if old.get("status") == "True" else None
        result.append({"type": kind, "status": "True", "reason": reason, "message": message,
                       "lastTransitionTime": stamp or now(), "lastUpdateTime": old.get("lastUpdateTime") or now()})
    return result


def set_status(store: Store, obj: dict, status: dict) -> None:
    """Write `status` over the object's status unless that changes nothing."""
    current = obj.get("status") or {}
    merged = {**current, **status}
    if merged == current:
        return
    resource = store.type_of(obj["apiVersion"], obj["kind"])
    store.update(resource, obj["metadata"].get("namespace", ""), obj["metadata"]["name"],
                 {"metadata": {"name": obj["metadata"]["name"]}, "status": merged}, subresource="status")


class KubeletLite:
    def __init__(self):
        self.enabled = False
        self._handlers = {
            ("apps", "deployments"): self._deployment,
            ("apps", "statefulsets"): self._statefulset,
            ("apps", "replicasets"): self._replicaset,
            ("apps", "daemonsets"): self._daemonset,
            ("", "persistentvolumeclaims"): self._claim,
            ("", "pods"): self._pod,
            ("", "services"): self._service,
        }

    def react(self, store: Store, event) -> None:
        if self.enabled and event.type != "DELETED":
            self._reconcile(store, event.key)

    def resync(self, store: Store) -> None:
        with store.lock:
            for key in list(store.objects):
                self._reconcile(store, key)

    def _reconcile(self, store: Store, key) -> None:
        handler = self._handlers.get(key[:2])
        obj = store.objects.get(key)
        if handler and obj is not None and not obj["metadata"].get("deletionTimestamp"):
            handler(store, obj)

    # --- workloads -----------------------------------------------------------------------------------

    def _deployment(self, store: Store, deployment: dict) -> None:
        spec, meta = deployment["spec"], deployment["metadata"]
        replicas = spec.get("replicas", 1)
        current = self._current_replicaset(store, deployment, replicas)
        status = {"observedGeneration": meta.get("generation", 1), "replicas": replicas,
                  "updatedReplicas": replicas, "readyReplicas": replicas, "availableReplicas": replicas}
        status["conditions"] = conditions((deployment.get("status") or {}).get("conditions"), [
            ("Available", "MinimumReplicasAvailable", "Deployment has minimum availability."),
            ("Progressing", "NewReplicaSetAvailable", f'ReplicaSet "{current}" has successfully progressed.')])
        if _counts(deployment.get("status")) != _counts(status):
            set_status(store, deployment, status)

    def _current_replicaset(self, store: Store, deployment: dict, replicas: int) -> str:
        """Make the ReplicaSet of the Deployment's template the one with the replicas; returns its name."""
        spec, meta = deployment["spec"], deployment["metadata"]
        template = spec.get("template") or {}
        digest = template_hash(template)
        name = f"{meta['name']}-{digest}"
        resource = store.type_of("apps/v1", "ReplicaSet")
        owned = [rs for rs in store.list(resource, meta["namespace"])[0] if controlled_by(rs, deployment)]
        for rs in owned:
            wanted = replicas if rs["metadata"]["name"] == name else 0
            if rs["spec"].get("replicas") != wanted:
                rs["spec"]["replicas"] = wanted
                store.update(resource, meta["namespace"], rs["metadata"]["name"], rs)
        if not any(rs["metadata"]["name"] == name for rs in owned):
            labels = {**((template.get("metadata") or {}).get("labels") or {}), "pod-template-hash": digest}
            selector = json.loads(json.dumps(spec.get("selector") or {}))
            selector.setdefault("matchLabels", {})["pod-template-hash"] = digest
            revision = str(len(owned) + 1)
            store.create(resource, meta["namespace"], {
                "metadata": {"name": name, "namespace": meta["namespace"], "labels": labels,
                             "annotations": {"deployment.kubernetes.io/revision": revision},
                             "ownerReferences": [owner_reference(deployment)]},
                "spec": {"replicas": replicas, "selector": selector,
                         "template": {**template, "metadata": {**(template.get("metadata") or {}), "labels": labels}}},
            })
        return name

    def _statefulset(self, store: Store, statefulset: dict) -> None:
        replicas = statefulset["spec"].get("replicas", 1)
        revision = f"{statefulset['metadata']['name']}-{template_hash(statefulset['spec'].get('template') or {})}"
        set_status(store, statefulset, {
            "observedGeneration": statefulset["metadata"].get("generation", 1), "replicas": replicas,
            "readyReplicas": replicas, "currentReplicas": replicas, "updatedReplicas": replicas,
            "availableReplicas": replicas, "currentRevision": revision, "updateRevision": revision,
            "collisionCount": 0})

    def _replicaset(self, store: Store, replicaset: dict) -> None:
        replicas = replicaset["spec"].get("replicas", 1)
        set_status(store, replicaset, {
            "observedGeneration": replicaset["metadata"].get("generation", 1), "replicas": replicas,
            "fullyLabeledReplicas": replicas, "readyReplicas": replicas, "availableReplicas": replicas})

    def _daemonset(self, store: Store, daemonset: dict) -> None:
        set_status(store, daemonset, {
            "observedGeneration": daemonset["metadata"].get("generation", 1), "currentNumberScheduled": 1,
            "desiredNumberScheduled": 1, "numberReady": 1, "numberAvailable": 1, "updatedNumberScheduled": 1,
            "numberMisscheduled": 0})

    # --- storage, pods, services -------------------------------------------------------------------------

    def _claim(self, store: Store, claim: dict) -> None:
        spec = claim.get("spec") or {}
        set_status(store, claim, {"phase": "Bound", "accessModes": spec.get("accessModes") or ["ReadWriteOnce"],
                                  "capacity": {"storage": ((spec.get("resources") or {}).get("requests") or {})
                                               .get("storage", "1Gi")}})

    def _pod(self, store: Store, pod: dict) -> None:
        spec = pod.get("spec") or {}
        if spec.get("restartPolicy", "Always") != "Always" or (pod.get("status") or {}).get("phase") == "Running":
            return
        started = now()
        ready = [(kind, "", "") for kind in ("PodScheduled", "Initialized", "ContainersReady", "Ready")]
        set_status(store, pod, {
            "phase": "Running", "startTime": started, "podIP": "10.244.0.10", "hostIP": "172.18.0.2",
            "conditions": [{k: v for k, v in c.items() if v and k != "lastUpdateTime"} for c in conditions(None, ready)],
            "containerStatuses": [{"name": c["name"], "image": c.get("image", ""), "imageID": "", "ready": True,
                                   "started": True, "restartCount": 0, "state": {"running": {"startedAt": started}}}
                                  for c in spec.get("containers") or []]})

    def _service(self, store: Store, service: dict) -> None:
        if (service.get("spec") or {}).get("type") == "LoadBalancer":
            set_status(store, service, {"loadBalancer": {"ingress": [{"ip": "172.18.255.200"}]}})


def _counts(status: dict | None) -> dict:
    """The parts of a workload status that matter for readiness (conditions only by type and state)."""
    status = status or {}
    return {**{k: v for k, v in status.items() if k != "conditions"},
            "conditions": sorted((c.get("type"), c.get("status"), c.get("reason")) for c in status.get("conditions") or [])}
