"""The Kubernetes runner through the real kubernetes client against the test API server (kube_api):
Job lifecycle, statuses, logs, cancel and delete; and a whole pipeline whose tasks run as Jobs (the
server's job executor runs their containers as local processes) with artifacts in moto S3."""

from __future__ import annotations

import pytest

from mlplatform.runners.base import TaskNotFound, TaskSpec, TaskState
from mlplatform.runners.kubernetes import KubernetesRunner
from tests.pipelines import pipelines
from tests.pipelines.conftest import moto_client
from tests.pipelines.controller import tasks_by_name

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")


@pytest.fixture
def runner(kube_api) -> KubernetesRunner:
    return KubernetesRunner(namespace="default", api_client=kube_api.api_client(), poll_seconds=0.1)


def test_job_lifecycle_without_running_it(kube_api, runner):
    runner.start(TaskSpec(name="idle", command=["sleep", "60"], image="busybox", labels={"team": "ml"}))
    job = kube_api.server.get("batch/v1", "Job", "idle", "default")
    assert job["spec"]["backoffLimit"] == 0
    assert job["spec"]["template"]["spec"]["containers"][0]["command"] == ["sleep", "60"]
    assert job["metadata"]["labels"]["team"] == "ml"
    assert runner.status("idle").state is TaskState.PENDING
    assert runner.names() == ["idle"] and runner.queue_depth() == 1
    with pytest.raises(ValueError, match="already exists"):
        runner.start(TaskSpec(name="idle", command=["true"]))
    runner.cancel("idle")
    assert runner.status("idle").state is TaskState.CANCELLED
    assert kube_api.server.get("batch/v1", "Job", "idle", "default")["spec"]["suspend"] is True
    runner.delete("idle")
    with pytest.raises(TaskNotFound):
        runner.status("idle")
    runner.delete("idle")  # deleting twice is fine


def test_jobs_run_succeed_fail_and_keep_their_logs(kube_api, runner):
    kube_api.server.run_jobs = True
    runner.start(TaskSpec(name="hello", command=["sh", "-c", "echo hello from a job"]))
    runner.start(TaskSpec(name="broken", command=["sh", "-c", "echo about to fail; exit 3"]))
    done = runner.wait("hello", timeout=60)
    assert done.state is TaskState.SUCCEEDED and done.reason == "Completed"
    assert "hello from a job" in runner.logs("hello")
    failed = runner.wait("broken", timeout=60)
    assert failed.state is TaskState.FAILED and failed.exit_code == 3 and "code 3" in failed.message
    assert "about to fail" in runner.logs("broken")


@pytest.mark.slow
def test_a_pipeline_runs_as_jobs_with_artifacts_in_s3(kube_api, moto_s3, start_controller):
    kube_api.server.run_jobs = True
    env = {
        **moto_s3,
        "KUBECONFIG": str(kube_api.kubeconfig),
        "POD_NAMESPACE": "default",
        "MLP_TASK_IMAGE": "registry.example/mlplatform:test",
    }
    controller = start_controller(artifact_root="s3://pipelines/k8s", env=env, runner="kubernetes")
    result = controller.client().create_run_from_pipeline_func(
        pipelines.containers_only,
        arguments={"text": "hello pods"},
        enable_caching=False,
        experiment_name="k8s",
    )
    run = controller.wait(result.run_id, timeout=120)
    assert run["state"] == "SUCCEEDED", run["error"]
    assert run["pipeline_outputs"]["parameters"]["Output"] == len("hello pods")
    shout = tasks_by_name(run)["shout"][0]
    logs = controller.get(f"/apis/v2beta1/runs/{result.run_id}/tasks/{shout['task_id']}/logs").text
    assert "HELLO PODS" in logs and "[mlp-download] launcher: downloaded" in logs
    loud = next(
        a
        for a in controller.get(f"/apis/v2beta1/runs/{result.run_id}/artifacts").json()["artifacts"]
        if a["output_name"] == "loud"
    )
    key = loud["uri"][len("s3://pipelines/") :]
    assert moto_client(moto_s3).get_object(Bucket="pipelines", Key=key)["Body"].read() == b"HELLO PODS"
    assert kube_api.server.objects("batch/v1", "Job", "default") == []  # finished Jobs are cleaned up
    created = [
        path for method, path in kube_api.server.requests if method == "POST" and path.endswith("/jobs")
    ]
    assert len(created) == 2
