"""Replicas in a cluster: one batch/v1 Job and one headless Service per replica, in the job's namespace.

- Names and labels: Job and Service `<job>-<type>-<index>`, labelled as the Training Operator labels its
  pods (training.kubeflow.org/job-name, replica-type, replica-index, operator-name, job-role: master).
- Env: the operator's (topology.py) on the default container, with each replica reached at its Service:
  `<job>-master-0` for PyTorch's MASTER_ADDR, `<svc>.<namespace>.svc` in TF_CONFIG.
- Gang start: an init container `gang-barrier` (barrier.py, the platform image) waits until every
  replica's Service resolves, i.e. every pod is scheduled, or fails after `--gang-timeout` seconds.
- Restart policies: OnFailure and Always become the pod's OnFailure (the kubelet restarts in place; the
  restarts count against backoffLimit); Never and ExitCode become Never, and the engine replaces a failed
  replica's Job when its policy says to restart. The Services stay for the job's life.
- With `owner_references` (the controller, whose jobs exist in the cluster) every object is owned by the
  PyTorchJob or TFJob, so deleting the job deletes them all.
"""

from __future__ import annotations

import copy
import os

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from mlplatform.kube import api_client as default_api_client
from mlplatform.runners.kubernetes import DEFAULT_TASK_IMAGE
from mlplatform.training.engine import ReplicaEngine, ReplicaState
from mlplatform.training.spec import API_VERSION, PYTORCH, TrainingJob
from mlplatform.training.store import JobRecord
from mlplatform.training.topology import (
    JOB_NAME_LABEL,
    Replica,
    container_port,
    default_container,
    environment,
    labels,
    replicas,
)

BARRIER_CONTAINER = "gang-barrier"
DEFAULT_BACKOFF_LIMIT = 6   # batch/v1's, for replicas the kubelet restarts in place


class KubernetesReplicas(ReplicaEngine):
    def __init__(self, api: client.ApiClient | None = None, gang_timeout: int = 300, image: str | None = None,
                 owner_references: bool = False):
        api = api or default_api_client()
        self.batch = client.BatchV1Api(api)
        self.core = client.CoreV1Api(api)
        self.gang_timeout = gang_timeout
        self.image = image or os.environ.get("MLP_TASK_IMAGE") or DEFAULT_TASK_IMAGE
        self.owner_references = owner_references

    # --- the engine's verbs ----------------------------------------------------------------------------

    def start(self, job: TrainingJob, record: JobRecord) -> None:
        for replica in replicas(job):
            self._create(self.core.create_namespaced_service, job.namespace, self.service(job, record, replica))
            self._create(self.batch.create_namespaced_job, job.namespace, self.job(job, record, replica))

    def observe(self, job: TrainingJob, record: JobRecord) -> dict[Replica, ReplicaState]:
        selector = f"{JOB_NAME_LABEL}={job.name}"
        jobs = {item.metadata.name: item for item in
                self.batch.list_namespaced_job(job.namespace, label_selector=selector).items}
        pods = self.core.list_namespaced_pod(job.namespace, label_selector=selector).items
        states = {}
        for replica in replicas(job):
            name = replica.pod_name(job.name)
            if name not in jobs:   # replaced after a failure, or removed by hand: the replica comes back
                self._create(self.batch.create_namespaced_job, job.namespace, self.job(job, record, replica))
                states[replica] = ReplicaState("Pending", scheduled=False)
                continue
            states[replica] = _state(jobs[name], [p for p in pods if p.metadata.name.startswith(name + "-")])
        return states

    def restart(self, job: TrainingJob, record: JobRecord, failed: list[Replica]) -> None:
        for replica in failed:   # observe() creates the Job again
            self._delete(self.batch.delete_namespaced_job, replica.pod_name(job.name), job.namespace)

    def stop(self, job: TrainingJob, record: JobRecord, remove: bool) -> None:
        selector = f"{JOB_NAME_LABEL}={job.name}"
        for item in self.batch.list_namespaced_job(job.namespace, label_selector=selector).items:
            if remove or not _finished(item):
                self._delete(self.batch.delete_namespaced_job, item.metadata.name, job.namespace)
        if remove:
            for replica in replicas(job):
                self._delete(self.core.delete_namespaced_service, replica.pod_name(job.name), job.namespace)

    # --- the objects -----------------------------------------------------------------------------------

    def service(self, job: TrainingJob, record: JobRecord, replica: Replica) -> dict:
        port = container_port(job, replica.type)
        selector = {key: value for key, value in labels(job, replica).items() if key != "training.kubeflow.org/job-role"}
        return {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": self._metadata(job, record, replica),
            "spec": {"clusterIP": "None", "publishNotReadyAddresses": True, "selector": selector,
                     "ports": [{"name": job.flavour.port_name, "port": port, "targetPort": port}]},
        }

    def job(self, job: TrainingJob, record: JobRecord, replica: Replica) -> dict:
        spec = job.replica_spec(replica.type)
        template = copy.deepcopy(spec.template)
        pod_metadata = template.setdefault("metadata", {})
        pod_metadata["labels"] = {**(pod_metadata.get("labels") or {}), **labels(job, replica)}
        pod = template["spec"]
        in_place = spec.restart_policy in ("OnFailure", "Always")
        pod["restartPolicy"] = "OnFailure" if in_place else "Never"
        pod["initContainers"] = [self._barrier(job), *(pod.get("initContainers") or [])]
        container = default_container(job, template)
        operator_env = environment(job, replica, self._address(job))
        container["env"] = [*(e for e in container.get("env") or [] if e.get("name") not in operator_env),
                            *({"name": key, "value": value} for key, value in operator_env.items())]
        backoff = (job.run_policy.backoff_limit if job.run_policy.backoff_limit is not None
                   else DEFAULT_BACKOFF_LIMIT) if in_place else 0
        return {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": self._metadata(job, record, replica),
            "spec": {"backoffLimit": backoff, "template": template},
        }

    def _address(self, job: TrainingJob):
        def address(replica: Replica) -> tuple[str, int]:
            host = replica.pod_name(job.name)
            if job.flavour is not PYTORCH:
                host = f"{host}.{job.namespace}.svc"
            return host, container_port(job, replica.type)
        return address

    def _barrier(self, job: TrainingJob) -> dict:
        peers = [replica.pod_name(job.name) for replica in replicas(job)]
        return {"name": BARRIER_CONTAINER, "image": self.image,
                "command": ["python", "-m", "mlplatform.training.barrier", "--timeout", str(self.gang_timeout), *peers],
                "resources": {"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"memory": "128Mi"}}}

    def _metadata(self, job: TrainingJob, record: JobRecord, replica: Replica) -> dict:
        metadata = {"name": replica.pod_name(job.name), "namespace": job.namespace, "labels": labels(job, replica)}
        if self.owner_references:
            metadata["ownerReferences"] = [{"apiVersion": API_VERSION, "kind": job.kind, "name": job.name,
                                            "uid": record.uid, "controller": True, "blockOwnerDeletion": True}]
        return metadata

    # --- calls -----------------------------------------------------------------------------------------

    @staticmethod
    def _create(create, namespace: str, body: dict) -> None:
        try:
            create(namespace, body)
        except ApiException as error:
            if error.status != 409:   # made by an earlier pass
                raise

    @staticmethod
    def _delete(delete, name: str, namespace: str) -> None:
        try:
            delete(name, namespace, propagation_policy="Background")
        except ApiException as error:
            if error.status != 404:
                raise


def _conditions(item) -> list:
    return (item.status.conditions or []) if item.status else []


def _finished(item) -> bool:
    return any(c.type in ("Complete", "Failed") and c.status == "True" for c in _conditions(item))


def _state(item, pods: list) -> ReplicaState:
    """A replica's state from its Job and pods, as the operator reads its pods."""
    restarts = sum(s.restart_count or 0 for p in pods for s in (p.status.container_statuses or []))
    for condition in _conditions(item):
        if condition.status != "True":
            continue
        if condition.type == "Complete":
            return ReplicaState("Succeeded", 0, restarts)
        if condition.type == "Failed":
            exit_code, message = _termination(pods)
            return ReplicaState("Failed", exit_code, restarts, message or condition.message or condition.reason or "")
    running = any(p.status and p.status.phase == "Running" for p in pods)
    scheduled = any(_scheduled(p) for p in pods)
    return ReplicaState("Running" if running else "Pending", restarts=restarts, scheduled=running or scheduled)


def _scheduled(pod) -> bool:
    conditions = (pod.status.conditions or []) if pod.status else []
    return bool(pod.spec and pod.spec.node_name) or any(c.type == "PodScheduled" and c.status == "True"
                                                        for c in conditions)


def _termination(pods: list) -> tuple[int | None, str]:
    for pod in pods:
        for status in [*(pod.status.init_container_statuses or []), *(pod.status.container_statuses or [])]:
            terminated = status.state.terminated if status.state else None
            if terminated is not None and terminated.exit_code:
                return terminated.exit_code, f"{status.name} exited with code {terminated.exit_code}" + (
                    f": {terminated.message}" if terminated.message else "")
    return None, ""
