"""The real kubeflow-training TrainingClient against the training operator's local mode, through a
kubeconfig: a 2-replica PyTorchJob (1 master + 1 worker) does a torch.distributed gloo all-reduce."""

from __future__ import annotations

import pytest
from kubeflow.training import TrainingClient
from kubeflow.training.api_client import ApiClient
from kubeflow.training.utils.utils import FakeResponse

from tests.support.polling import wait_for
from tests.training.helpers import pytorchjob, script

pytest.importorskip("torch", reason="the [training] extra: pip install torch (CPU)")


def model(manifest: dict):
    """The SDK's own model object for a manifest, as TrainingClient.create_job takes it."""
    return ApiClient().deserialize(FakeResponse(manifest), f"KubeflowOrgV1{manifest['kind']}")


def test_training_client_runs_a_two_replica_gloo_all_reduce_to_succeeded(kubeconfig):
    sdk = TrainingClient(config_file=str(kubeconfig), namespace="default")
    # cleanPodPolicy None (PyTorchJob's default) keeps the worker's pod when the master ends first.
    sdk.create_job(job=model(pytorchjob("allreduce", script("allreduce.py"), cleanPodPolicy="None")))

    job = sdk.wait_for_job_conditions("allreduce", wait_timeout=120, polling_interval=1)
    assert sdk.is_job_succeeded("allreduce")
    types = {condition.type for condition in job.status.conditions}
    assert {"Created", "Running", "Succeeded"} <= types
    assert job.status.replica_statuses["Master"].succeeded == 1
    assert job.status.start_time and job.status.completion_time

    assert sorted(sdk.get_job_pod_names("allreduce")) == ["allreduce-master-0", "allreduce-worker-0"]
    assert sdk.get_job_pod_names("allreduce", is_master=True) == ["allreduce-master-0"]
    logs, _ = sdk.get_job_logs("allreduce")
    assert "rank 0/2" in logs["allreduce-master-0"] and "all-reduce sum 3" in logs["allreduce-master-0"]
    def worker_log() -> str:
        return sdk.get_job_logs("allreduce", is_master=False, replica_type="worker")[0].get("allreduce-worker-0", "")
    wait_for(lambda: "rank 1/2" in worker_log(), what="the worker's all-reduce line (it may end after the master)")
    _, events = sdk.get_job_logs("allreduce", verbose=True)
    assert any("PyTorchJob default/allreduce successfully completed." in e for e in events["pytorchjob/allreduce"])

    sdk.delete_job("allreduce")
    assert "allreduce" not in [j.metadata.name for j in sdk.list_jobs()]
    assert sdk.get_job_pod_names("allreduce") == []


def distributed_function():
    """Run by TrainingClient.create_job(train_func=...) in every replica, through torchrun."""
    import torch
    import torch.distributed as dist

    dist.init_process_group("gloo")
    total = torch.tensor([float(dist.get_rank() + 1)])
    dist.all_reduce(total)
    print(f"function rank {dist.get_rank()}/{dist.get_world_size()}: sum {total.item():g}", flush=True)
    dist.barrier()   # a rank that exits without leaving the group can abort in gloo's teardown (SIGABRT)
    dist.destroy_process_group()


def test_training_client_runs_a_python_function_on_two_workers(kubeconfig):
    """The SDK's own job from a function: its torchrun command (the platform's torchrun on PATH locally)."""
    sdk = TrainingClient(config_file=str(kubeconfig), namespace="default")
    sdk.create_job(name="function", train_func=distributed_function, num_workers=2)
    try:
        sdk.wait_for_job_conditions("function", wait_timeout=120, polling_interval=1)
    except RuntimeError as failed:   # say why: every replica's output
        raise AssertionError(f"{failed}\n{sdk.get_job_logs('function', is_master=False)[0]}") from None
    logs, _ = sdk.get_job_logs("function")
    assert "function rank 0/2: sum 3" in logs["function-master-0"]
    sdk.delete_job("function")
