"""A KFP component that runs a distributed PyTorch job: it submits a `kubeflow.org/v1` PyTorchJob (one
Master, `workers` Workers, all running `command`) and waits for it, like Kubeflow's launcher components.
(No `from __future__ import annotations`: kfp reads real annotations.)

The task reaches the training API through `training_url` when given (local mode: the training operator's
URL, `services.training-operator` in endpoints.json), otherwise through the kubeconfig or the pod's
service account (in a cluster, the task's service account needs create/get/delete on pytorchjobs).
The task prints the master's log, returns the job's final condition (`Succeeded`) and fails when the job
fails or does not finish within `timeout_seconds` (the job is then deleted).

`run_pytorchjob()` is the same thing as a Python function, for programs that are not pipelines.
"""

import time
import uuid

from kfp import dsl

PLATFORM_IMAGE = "ghcr.io/mlplatform/mlplatform:0.1.0"
GROUP, VERSION, PLURAL = "kubeflow.org", "v1", "pytorchjobs"
MASTER_SELECTOR = "training.kubeflow.org/job-name={name},training.kubeflow.org/job-role=master"
POLL_SECONDS = 0.5


@dsl.component(base_image=PLATFORM_IMAGE)
def pytorch_job(command: list, name: str = "", workers: int = 1, image: str = PLATFORM_IMAGE,
                namespace: str = "kubeflow", training_url: str = "", timeout_seconds: int = 3600) -> str:
    """Run `command` as a PyTorchJob (1 Master + `workers` Workers) and wait; returns its final condition."""
    from mlplatform.components.pytorchjob import run_pytorchjob

    return run_pytorchjob(command, name=name, workers=workers, image=image, namespace=namespace,
                          training_url=training_url, timeout_seconds=timeout_seconds)


def pytorchjob_manifest(name: str, namespace: str, command: list, workers: int, image: str) -> dict:
    def replica(count: int) -> dict:
        return {"replicas": count, "restartPolicy": "OnFailure",
                "template": {"spec": {"containers": [{"name": "pytorch", "image": image,
                                                      "command": [str(arg) for arg in command]}]}}}

    specs = {"Master": replica(1), **({"Worker": replica(workers)} if workers > 0 else {})}
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "PyTorchJob",
            "metadata": {"name": name, "namespace": namespace}, "spec": {"pytorchReplicaSpecs": specs}}


def run_pytorchjob(command: list, *, name: str = "", workers: int = 1, image: str = PLATFORM_IMAGE,
                   namespace: str = "kubeflow", training_url: str = "", timeout_seconds: float = 3600) -> str:
    """Create the PyTorchJob, wait for Succeeded or Failed, print the master's log; returns "Succeeded"."""
    from kubernetes import client

    from mlplatform.kube import api_client, api_client_for_url

    if not command or workers < 0:
        raise ValueError("pytorch_job needs a command and workers >= 0")
    name = name or f"pytorchjob-{uuid.uuid4().hex[:8]}"
    api = api_client_for_url(training_url) if training_url else api_client()
    custom, core = client.CustomObjectsApi(api), client.CoreV1Api(api)
    custom.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL,
                                           pytorchjob_manifest(name, namespace, command, workers, image))
    condition = _wait(custom, namespace, name, timeout_seconds)
    print(_master_log(core, namespace, name), flush=True)
    if condition["type"] != "Succeeded":
        raise RuntimeError(f"PyTorchJob {namespace}/{name} {condition['type']}: {condition.get('message', '')}")
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
