"""The Jobs the Kubernetes runner creates for pipeline tasks: the task's image, command, env and
resources, plus the launcher containers that move artifacts, checked against the Kubernetes schema."""

from __future__ import annotations

import json

import kubernetes
import kubernetes_validate
import pytest

from mlplatform.pipelines.artifacts import ArtifactRoot
from mlplatform.pipelines.engine.launch import resources_of
from mlplatform.pipelines.engine.layout import POD_EXIT_CODE_FILE, POD_OUTPUTS_DIR, PodLayout
from mlplatform.runners.base import TaskSpec
from mlplatform.runners.kubernetes import KubernetesRunner

KUBERNETES_VERSIONS = ("1.30", "1.33")
COMPONENT = {
    "inputDefinitions": {
        "parameters": {"n": {"parameterType": "NUMBER_INTEGER"}},
        "artifacts": {"data": {"artifactType": {"schemaTitle": "system.Dataset"}}},
    },
    "outputDefinitions": {
        "parameters": {"Output": {"parameterType": "NUMBER_DOUBLE"}},
        "artifacts": {"model": {"artifactType": {"schemaTitle": "system.Model"}}},
    },
}


@pytest.fixture
def runner(monkeypatch) -> KubernetesRunner:
    monkeypatch.setenv("MLP_TASK_IMAGE", "registry.example/mlplatform:1.2.3")
    monkeypatch.setenv("MLP_S3_ENDPOINT", "http://minio:9000")
    monkeypatch.setenv("MLP_S3_SECRET", "release-minio")
    # A real client; building a Job talks to no server.
    return KubernetesRunner(
        namespace="ml", api_client=kubernetes.client.ApiClient(), service_account="pipeline-runner"
    )


def pipeline_task(tmp_path) -> TaskSpec:
    layout = PodLayout(ArtifactRoot("s3://artifacts/pipelines"), tmp_path)
    data = {
        "name": "data",
        "type": {"schemaTitle": "system.Dataset"},
        "uri": "s3://artifacts/pipelines/r/prep/data",
    }
    files = layout.prepare(
        "task-1",
        1,
        COMPONENT,
        {"n": 3},
        {"data": [data]},
        {"model": "s3://artifacts/pipelines/r/train/model"},
        "r",
    )
    container = {
        "resources": {
            "resourceCpuRequest": "500m",
            "resourceCpuLimit": "2",
            "resourceMemoryLimit": "4Gi",
            "accelerator": {"resourceType": "nvidia.com/gpu", "resourceCount": "1"},
        }
    }
    return TaskSpec(
        name="train-0123456789ab",
        command=["python3", "-m", "trainer", json.dumps(files.executor_input)],
        image="python:3.11",
        env={"MODE": "fast"},
        resources=resources_of(container),
        labels={"mlplatform.io/run-id": "r"},
        artifact_staging=files.staging.to_json(),
    )


def test_pipeline_task_job_runs_the_users_image_between_download_and_upload(runner, tmp_path):
    job = runner.job_for(pipeline_task(tmp_path))
    for version in KUBERNETES_VERSIONS:
        kubernetes_validate.validate(job, version, strict=True)
    assert job["metadata"]["name"] == "train-0123456789ab" and job["metadata"]["namespace"] == "ml"
    assert job["spec"]["backoffLimit"] == 0  # the controller retries, attempt by attempt
    pod = job["spec"]["template"]["spec"]
    assert pod["restartPolicy"] == "Never" and pod["serviceAccountName"] == "pipeline-runner"
    main, upload = pod["containers"]
    (download,) = pod["initContainers"]

    assert main["image"] == "python:3.11" and {"name": "MODE", "value": "fast"} in main["env"]
    assert main["command"][:2] == ["sh", "-c"] and main["command"][4:7] == ["python3", "-m", "trainer"]
    assert main["resources"] == {
        "requests": {"cpu": "500m"},
        "limits": {"cpu": "2", "memory": "4Gi", "nvidia.com/gpu": "1"},
    }
    assert {m["mountPath"] for m in main["volumeMounts"]} == {"/s3", "/mlp"}

    for launcher, mode in ((download, "download"), (upload, "upload")):
        assert launcher["image"] == "registry.example/mlplatform:1.2.3"
        assert launcher["command"][:4] == ["python", "-m", "mlplatform.pipelines.launcher", mode]
        env = {item["name"]: item for item in launcher["env"]}
        assert env["MLP_S3_ENDPOINT"]["value"] == "http://minio:9000"
        assert env["AWS_SECRET_ACCESS_KEY"]["valueFrom"]["secretKeyRef"] == {
            "name": "release-minio",
            "key": "root-password",
        }
    manifest = json.loads(download["command"][-1])
    assert manifest["downloads"] == [
        {"uri": "s3://artifacts/pipelines/r/prep/data", "path": "/s3/artifacts/pipelines/r/prep/data"}
    ]
    assert {
        "uri": "s3://artifacts/pipelines/r/train/model",
        "path": "/s3/artifacts/pipelines/r/train/model",
    } in manifest["uploads"]
    assert {"uri": "s3://artifacts/pipelines/r/.mlp/task-1/1", "path": POD_OUTPUTS_DIR} in manifest["uploads"]
    assert manifest["exit_code_file"] == POD_EXIT_CODE_FILE


def test_executor_input_in_a_pod_uses_s3_uris_and_pod_paths(tmp_path):
    executor_input = json.loads(pipeline_task(tmp_path).command[-1])
    assert executor_input["inputs"]["artifacts"]["data"]["artifacts"][0]["uri"].startswith("s3://")
    assert executor_input["outputs"]["outputFile"] == f"{POD_OUTPUTS_DIR}/executor_output.json"
    assert (
        executor_input["outputs"]["parameters"]["Output"]["outputFile"]
        == f"{POD_OUTPUTS_DIR}/parameters/Output"
    )


def test_a_given_job_manifest_is_created_as_given_renamed_and_labelled(runner):
    trial = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "ignored", "labels": {"katib": "x"}},
        "spec": {
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "trial", "image": "busybox", "command": ["true"]}],
                }
            }
        },
    }
    job = runner.job_for(TaskSpec(name="trial-1", command=["ignored"], job_manifest=trial, labels={"a": "b"}))
    kubernetes_validate.validate(job, KUBERNETES_VERSIONS[0], strict=True)
    assert job["metadata"]["name"] == "trial-1"
    assert job["metadata"]["labels"]["katib"] == "x" and job["metadata"]["labels"]["a"] == "b"
    assert job["spec"]["template"]["spec"]["containers"][0]["command"] == ["true"]
    assert trial["metadata"]["name"] == "ignored"  # the caller's manifest is not changed


def test_plain_task_without_staging_has_no_launcher_containers(runner):
    job = runner.job_for(TaskSpec(name="plain", command=["echo", "hi"], timeout_seconds=60))
    kubernetes_validate.validate(job, KUBERNETES_VERSIONS[0], strict=True)
    pod = job["spec"]["template"]["spec"]
    assert "initContainers" not in pod and len(pod["containers"]) == 1
    assert pod["containers"][0]["command"] == ["echo", "hi"]
    assert (
        pod["containers"][0]["image"] == "registry.example/mlplatform:1.2.3"
    )  # MLP_TASK_IMAGE for tasks naming none
    assert job["spec"]["activeDeadlineSeconds"] == 60
