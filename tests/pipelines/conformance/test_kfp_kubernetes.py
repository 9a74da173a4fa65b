"""kfp-kubernetes PlatformSpec and resources: rendered into the Job through the test API server (real
kubernetes client), and on the local runner, applied where possible and reported once per run."""

import json
import time

import kubernetes
import kubernetes_validate
import pytest
import yaml
from kfp import compiler, dsl
from kfp import kubernetes as kfp_kubernetes

from mlplatform.pipelines.engine import platform
from mlplatform.pipelines.engine.launch import resources_of
from mlplatform.pipelines.launcher.__main__ import main as launcher_main
from mlplatform.pipelines.launcher.manifest import Manifest, Transfer
from mlplatform.runners.base import TaskSpec
from mlplatform.runners.kubernetes import KubernetesRunner
from tests.pipelines.conformance.helpers import outputs_of, run_pipeline, succeeded, task
from tests.pipelines.conftest import moto_client

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")


@dsl.component
def train() -> str:
    return "trained"


@dsl.pipeline(name="platform-settings")
def every_platform_setting():
    claim = kfp_kubernetes.CreatePVC(
        pvc_name_suffix="-data", access_modes=["ReadWriteOnce"], size="1Gi", storage_class_name="standard"
    )
    step = train().set_cpu_request("500m").set_cpu_limit("2").set_memory_limit("1G")
    step.set_accelerator_type("nvidia.com/gpu").set_accelerator_limit(1)
    kfp_kubernetes.mount_pvc(step, pvc_name=claim.outputs["name"], mount_path="/data")
    kfp_kubernetes.use_secret_as_env(step, secret_name="db", secret_key_to_env={"password": "DB_PASSWORD"})
    kfp_kubernetes.use_secret_as_volume(step, secret_name="certs", mount_path="/certs", optional=True)
    kfp_kubernetes.use_config_map_as_env(
        step, config_map_name="settings", config_map_key_to_env={"mode": "MODE"}
    )
    kfp_kubernetes.use_config_map_as_volume(step, config_map_name="files", mount_path="/files")
    kfp_kubernetes.add_node_selector(step, label_key="disk", label_value="ssd")
    kfp_kubernetes.add_toleration(step, key="gpu", operator="Equal", value="true", effect="NoSchedule")
    kfp_kubernetes.add_node_affinity(
        step, match_expressions=[{"key": "zone", "operator": "In", "values": ["a"]}]
    )
    kfp_kubernetes.add_pod_label(step, "team", "ml")
    kfp_kubernetes.add_pod_annotation(step, "owner", "alice")
    kfp_kubernetes.set_image_pull_secrets(step, ["regcred"])
    kfp_kubernetes.set_image_pull_policy(step, "Always")
    kfp_kubernetes.empty_dir_mount(step, volume_name="scratch", mount_path="/scratch", medium="Memory")
    kfp_kubernetes.use_field_path_as_env(step, env_name="POD_NAME", field_path="metadata.name")
    kfp_kubernetes.set_timeout(step, 600)
    kfp_kubernetes.add_ephemeral_volume(
        step,
        volume_name="cache",
        mount_path="/cache",
        access_modes=["ReadWriteOnce"],
        size="2Gi",
        storage_class_name="fast",
    )
    kfp_kubernetes.DeletePVC(pvc_name=claim.outputs["name"]).after(step)


@pytest.fixture(scope="module")
def compiled(tmp_path_factory) -> tuple[dict, dict]:
    path = tmp_path_factory.mktemp("platform") / "pipeline.yaml"
    compiler.Compiler().compile(every_platform_setting, str(path))
    pipeline_spec, platform_spec = yaml.safe_load_all(path.read_text())
    return pipeline_spec, platform_spec


def train_task_spec(compiled) -> TaskSpec:
    pipeline_spec, platform_spec = compiled
    config = platform.executor_config(platform_spec, "exec-train")
    outputs = {("createpvc", "name"): "platform-settings-1234abcd-data"}
    settings = platform.resolved(
        config, lambda spec: platform.parameter_value(spec, {}, {}, lambda task, key: outputs[(task, key)])
    )
    container = pipeline_spec["deploymentSpec"]["executors"]["exec-train"]["container"]
    return TaskSpec(
        name="train-0123456789ab",
        command=["python3", "-c", "print(1)"],
        image="python:3.11",
        resources=resources_of(container),
        platform_config=settings,
    )


def test_platform_settings_and_resources_become_the_job(kube_api, compiled):
    runner = KubernetesRunner(namespace="default", api_client=kube_api.api_client())
    manifest = runner.job_for(train_task_spec(compiled))
    kubernetes_validate.validate(manifest, "1.33", strict=True)
    runner.start(train_task_spec(compiled))
    job = kubernetes.client.BatchV1Api(kube_api.api_client()).read_namespaced_job(
        "train-0123456789ab", "default"
    )
    pod, main = job.spec.template.spec, job.spec.template.spec.containers[0]

    assert main.resources.requests == {"cpu": "500m"}
    assert main.resources.limits == {"cpu": "2", "memory": "1G", "nvidia.com/gpu": "1"}
    env = {item.name: item.value_from for item in main.env}
    assert (env["DB_PASSWORD"].secret_key_ref.name, env["DB_PASSWORD"].secret_key_ref.key) == (
        "db",
        "password",
    )
    assert (env["MODE"].config_map_key_ref.name, env["MODE"].config_map_key_ref.key) == ("settings", "mode")
    assert env["POD_NAME"].field_ref.field_path == "metadata.name"
    mounts = {mount.mount_path: mount.name for mount in main.volume_mounts}
    volumes = {volume.name: volume for volume in pod.volumes}
    assert volumes[mounts["/data"]].persistent_volume_claim.claim_name == "platform-settings-1234abcd-data"
    assert (
        volumes[mounts["/certs"]].secret.secret_name == "certs" and volumes[mounts["/certs"]].secret.optional
    )
    assert volumes[mounts["/files"]].config_map.name == "files"
    assert volumes[mounts["/scratch"]].empty_dir.medium == "Memory"
    claim = volumes[mounts["/cache"]].ephemeral.volume_claim_template.spec
    assert (claim.storage_class_name, claim.resources.requests) == ("fast", {"storage": "2Gi"})
    assert pod.node_selector == {"disk": "ssd"}
    assert [(t.key, t.operator, t.value, t.effect) for t in pod.tolerations] == [
        ("gpu", "Equal", "true", "NoSchedule")
    ]
    terms = pod.affinity.node_affinity.required_during_scheduling_ignored_during_execution.node_selector_terms
    assert [(e.key, e.values) for e in terms[0].match_expressions] == [("zone", ["a"])]
    assert job.spec.template.metadata.labels["team"] == "ml"
    assert job.spec.template.metadata.annotations == {"owner": "alice"}
    assert [secret.name for secret in pod.image_pull_secrets] == ["regcred"]
    assert main.image_pull_policy == "Always"
    assert job.spec.active_deadline_seconds == 600


def test_create_and_delete_pvc_make_the_claim(kube_api, compiled):
    pipeline_spec, _ = compiled
    inputs = pipeline_spec["root"]["dag"]["tasks"]["createpvc"]["inputs"]["parameters"]
    given = {name: value["runtimeValue"]["constant"] for name, value in inputs.items()}
    runner = KubernetesRunner(namespace="default", api_client=kube_api.api_client())
    runner.create_pvc("run-1-data", given)
    core = kubernetes.client.CoreV1Api(kube_api.api_client())
    claim = core.read_namespaced_persistent_volume_claim("run-1-data", "default")
    assert claim.spec.access_modes == ["ReadWriteOnce"] and claim.spec.storage_class_name == "standard"
    assert claim.spec.resources.requests == {"storage": "1Gi"}
    runner.delete_pvc("run-1-data")
    assert "run-1-data" not in [
        item.metadata.name for item in core.list_namespaced_persistent_volume_claim("default").items
    ]


def test_a_setting_the_runner_does_not_know_is_refused_by_name(compiled):
    spec = train_task_spec(compiled)
    unknown = TaskSpec(name=spec.name, command=spec.command, platform_config={"futureFeature": {}})
    with pytest.raises(ValueError, match="futureFeature"):
        KubernetesRunner(namespace="default", api_client=kubernetes.client.ApiClient()).job_for(unknown)


def test_local_runner_runs_the_pipeline_and_says_once_what_it_ignored(controller):
    run = succeeded(run_pipeline(controller, every_platform_setting))
    claim = outputs_of(run, "createpvc")["name"]
    assert claim.startswith("platform-settings-") and claim.endswith("-data")
    assert task(run, "deletepvc")["state"] == "SUCCEEDED"
    log = controller.task_log(run["run_id"], task(run, "train")["task_id"])
    assert log.count("local runner: ignored") == 1
    for setting in ("secrets as env", "PVC mounts", "node selector", "tolerations", "accelerator type/limit"):
        assert setting in log
    assert outputs_of(run, "train") == {"Output": "trained"}


# --- PipelineConfig workspace and Artifact.set_path on the Kubernetes runner -----------------------


@dsl.component
def write_to_workspace(workspace_path: str, data: dsl.Output[dsl.Dataset]):
    path = f"{workspace_path}/data.txt"
    with open(path, "w") as file:
        file.write("in the workspace")
    data.set_path(path)


@dsl.pipeline(
    name="workspace-pipeline",
    pipeline_config=dsl.PipelineConfig(
        workspace=dsl.WorkspaceConfig(
            size="5Gi",
            kubernetes=dsl.KubernetesWorkspaceConfig(
                pvcSpecPatch={"storageClassName": "fast", "accessModes": ["ReadWriteMany"]}
            ),
        )
    ),
)
def uses_workspace():
    write_to_workspace(workspace_path=dsl.WORKSPACE_PATH_PLACEHOLDER)


def kubernetes_env(kube_api, moto_s3) -> dict:
    return {
        **moto_s3,
        "KUBECONFIG": str(kube_api.kubeconfig),
        "POD_NAMESPACE": "default",
        "MLP_TASK_IMAGE": "registry.example/mlplatform:test",
    }


def wait_for(what: str, found, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while not (value := found()):
        assert time.monotonic() < deadline, f"no {what} after {timeout}s"
        time.sleep(0.2)
    return value


def test_workspace_is_a_pvc_per_run_mounted_in_every_task_pod(kube_api, moto_s3, start_controller):
    controller = start_controller(
        artifact_root="s3://pipelines/ws", env=kubernetes_env(kube_api, moto_s3), runner="kubernetes"
    )
    run_id = (
        controller.client()
        .create_run_from_pipeline_func(
            uses_workspace, arguments={}, enable_caching=False, experiment_name="k8s"
        )
        .run_id
    )
    claim_name = platform.workspace_claim_name(run_id)
    server = kube_api.server
    job = wait_for("Job", lambda: server.objects("batch/v1", "Job", "default"))[0]
    claim = server.get("v1", "PersistentVolumeClaim", claim_name, "default")
    assert claim["spec"]["resources"]["requests"] == {"storage": "5Gi"}
    assert (claim["spec"]["storageClassName"], claim["spec"]["accessModes"]) == ("fast", ["ReadWriteMany"])
    pod = job["spec"]["template"]["spec"]
    assert {"name": "kfp-workspace", "persistentVolumeClaim": {"claimName": claim_name}} in pod["volumes"]
    for container in pod["containers"]:  # the task, and the uploader that reads its set_path output
        assert {"name": "kfp-workspace", "mountPath": "/kfp-workspace"} in container["volumeMounts"]
    main = pod["containers"][0]
    assert any("/kfp-workspace" in argument for argument in main["command"] + main.get("args", []))
    controller.client().terminate_run(run_id)
    wait_for(
        "deleted workspace claim",
        lambda: server.get("v1", "PersistentVolumeClaim", claim_name, "default") is None,
    )


def test_workspace_claim_defaults_and_refuses_unknown_patch_fields(kube_api):
    runner = KubernetesRunner(namespace="default", api_client=kube_api.api_client())
    runner.create_workspace("kfp-workspace-run-2", {})
    claim = kube_api.server.get("v1", "PersistentVolumeClaim", "kfp-workspace-run-2", "default")
    assert (claim["spec"]["resources"]["requests"], claim["spec"]["accessModes"]) == (
        {"storage": "10Gi"},
        ["ReadWriteOnce"],
    )
    with pytest.raises(ValueError, match="volumeMode"):
        runner.create_workspace(
            "kfp-workspace-run-3", {"kubernetes": {"pvcSpecPatch": {"volumeMode": "Block"}}}
        )


def test_set_path_output_is_uploaded_from_its_custom_path(tmp_path, moto_s3, monkeypatch):
    for key, value in moto_s3.items():
        monkeypatch.setenv(key, value)
    written = tmp_path / "workspace" / "model.bin"
    written.parent.mkdir()
    written.write_text("custom")
    uri = "s3://pipelines/custom/train/model"
    output = tmp_path / "executor_output.json"
    output.write_text(
        json.dumps({"artifacts": {"model": {"artifacts": [{"uri": uri, "custom_path": str(written)}]}}})
    )
    manifest = Manifest(uploads=[Transfer(uri, str(tmp_path / "s3" / "model"))], executor_output=str(output))
    assert launcher_main(["upload", "--manifest", manifest.to_json()]) == 0
    stored = moto_client(moto_s3).get_object(Bucket="pipelines", Key="custom/train/model")
    assert stored["Body"].read() == b"custom"
