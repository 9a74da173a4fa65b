"""A KFP component that runs a distributed PyTorch job: it submits a `kubeflow.org/v1` PyTorchJob (one
Master, `workers` Workers, all running `command`) and waits for it, like Kubeflow's launcher components.
(No `from __future__ import annotations`: kfp reads real annotations.) The work is done by
mlplatform.components.jobs, which the task imports: at run time kfp.dsl has no decorators.

The task reaches the training API through `training_url` when given (local mode: the training operator's
URL, `services.training-operator` in endpoints.json), otherwise through the kubeconfig or the pod's
service account (in a cluster, the task's service account needs create/get/delete on pytorchjobs).
The task prints the master's log, returns the job's final condition (`Succeeded`) and fails when the job
fails or does not finish within `timeout_seconds` (the job is then deleted).
"""

from kfp import dsl

from mlplatform.components.jobs import PLATFORM_IMAGE


@dsl.component(base_image=PLATFORM_IMAGE)
def pytorch_job(command: list, name: str = "", workers: int = 1, image: str = "",
                namespace: str = "kubeflow", training_url: str = "", timeout_seconds: int = 3600) -> str:
    """Run `command` as a PyTorchJob (1 Master + `workers` Workers) and wait; returns its final condition.
    `image`: the replicas' image (default: the platform image); `name`: the job's (default: generated)."""
    from mlplatform.components.jobs import run_pytorchjob

    return run_pytorchjob(command, name=name, workers=workers, image=image, namespace=namespace,
                          training_url=training_url, timeout_seconds=timeout_seconds)

