"""Run a `kubeflow.org/v1` PyTorchJob on the training operator and wait for it: what the pytorch_job
component does in its task, and a plain function for programs that are not pipelines (`mlp demo
--distributed`). The training API is `training_url` when given (local mode), else the kubeconfig or the
pod's service account.
"""

from __future__ import annotations

import time
import uuid

PLATFORM_IMAGE = "ghcr.io/mlplatform/mlplatform:0.1.0"
GROUP, VERSION, PLURAL = "kubeflow.org", "v1", "pytorchjobs"
MASTER_SELECTOR = "training.kubeflow.org/job-name={name},training.kubeflow.org/job-role=master"
POLL_SECONDS = 0.5


def pytorchjob_manifest(name: str, namespace: str, command: list, workers: int, image: str) -> dict:
    def replica(count: int) -> dict:
        return {"replicas": count, "restartPolicy": "Never",  # a failed replica fails the job: the task's retries decide
                "template": {"spec": {"containers": [{"name": "pytorch", "image": image,
                                                      "command": [str(arg) for arg in command]}]}}}

    specs = {"Master": replica(1), **({"Worker": replica(workers)} if workers > 0 else {})}
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "PyTorchJob",
            "metadata": {"name": name, "namespace": namespace}, "spec": {"pytorchReplicaSpecs": specs}}


def run_pytorchjob(command: list, *, name: str = "", workers: int = 1, image: str = "",
                   namespace: str = "kubeflow", training_url: str = "", timeout_seconds: float = 3600,
                   print_log: bool = True) -> str:
    """Create the PyTorchJob, wait for Succeeded or Failed, print the master's log (unless not
    `print_log`); returns "Succeeded", raises RuntimeError with the master's log tail otherwise."""
    from kubernetes import client

    from mlplatform.kube import api_client, api_client_for_url

    if not command or workers < 0:
        raise ValueError("pytorch_job needs a command and workers >= 0")
    name = name or f"pytorchjob-{uuid.uuid4().hex[:8]}"
    api = api_client_for_url(training_url) if training_url else api_client()
    custom, core = client.CustomObjectsApi(api), client.CoreV1Api(api)
    custom.create_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURAL, pytorchjob_manifest(name, namespace, command, workers, image or PLATFORM_IMAGE))
    condition = _wait(custom, namespace, name, timeout_seconds)
    log = _master_log(core, namespace, name)
    if print_log:
        print(log, flush=True)
    if condition["type"] != "Succeeded":
        tail = "\n".join(log.strip().splitlines()[-5:])
        raise RuntimeError(f"PyTorchJob {namespace}/{name} {condition['type']}: {condition.get('message', '')}"
                           f"; the master's log ends with:\n{tail}")
    return condition["type"]


def _wait(custom, namespace: str, name: str, timeout_seconds: float) -> dict:
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        job = custom.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name)
        for condition in (job.get("status") or {}).get("conditions") or []:
            if condition.get("type") in ("Succeeded", "Failed") and condition.get("status") == "True":
                return condition
        time.sleep(POLL_SECONDS)
    custom.delete_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name)
    return {"type": "Timeout", "message": f"not finished after {timeout_seconds} s; the job was deleted"}


def _master_log(core, namespace: str, name: str) -> str:
    pods = core.list_namespaced_pod(namespace, label_selector=MASTER_SELECTOR.format(name=name)).items
    if not pods:
        return f"(PyTorchJob {name} has no master pod to show the log of)"
    return core.read_namespaced_pod_log(pods[0].metadata.name, namespace, container="pytorch")
