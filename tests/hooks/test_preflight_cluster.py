"""`mlp hook preflight` against the test Kubernetes API server, through the real CLI and kubernetes client.

The config is the umbrella chart's own: its hooks ConfigMap rendered by helm (`hooks.json`, contracts §5),
read through MLP_HOOK_CONFIG as the hook Job reads it. Exit codes (contracts §5): 0 passed, 1 the cluster
lacks something, 2 values that do not fit together, 3 the Kubernetes API did not answer.
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

import pytest
import yaml
from kubernetes import client

from mlplatform.net import free_port
from mlplatform.values.charts import UMBRELLA, Render
from tests.support.local_fixtures import mlp

NAMESPACE = "mlplatform"   # Render's namespace: hooks.json names it
DEFAULT_CLASS = {"storageclass.kubernetes.io/is-default-class": "true"}


def hooks_json(chart_suite, tmp_path: Path, *set_values: str) -> Path:
    """The umbrella's hooks.json for these --set values, as helm renders it, written where MLP_HOOK_CONFIG points."""
    objects = chart_suite.objects(Render(UMBRELLA, set_values=set_values))
    config = next(obj for obj in objects if obj["kind"] == "ConfigMap" and "hooks.json" in (obj.get("data") or {}))
    path = tmp_path / "hooks.json"
    path.write_text(config["data"]["hooks.json"])
    assert json.loads(path.read_text())["namespace"] == NAMESPACE
    return path


def preflight(config: Path, *args: str) -> tuple[int, dict, str]:
    """The real `mlp hook preflight` (the Job's command) with $MLP_HOOK_CONFIG; KUBECONFIG is the test server's."""
    result = mlp("hook", "preflight", "--output", "json", *args, timeout=60,
                 env={**os.environ, "MLP_HOOK_CONFIG": str(config)})
    report = json.loads(result.stdout) if result.stdout.startswith("{") else {}
    return result.returncode, report, result.stdout + result.stderr


def failed(report: dict) -> list[dict]:
    return [r for r in report["results"] if r["status"] == "failed"]


def storage_class(name: str, default: bool = False) -> dict:
    return {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "provisioner": "example.com/disk",
            "metadata": {"name": name, "annotations": DEFAULT_CLASS if default else {}}}


def secret(name: str, **data: str) -> client.V1Secret:
    return client.V1Secret(metadata=client.V1ObjectMeta(name=name), string_data=data)


@pytest.fixture
def core(kube_api) -> client.CoreV1Api:
    return client.CoreV1Api(kube_api.api_client())


@pytest.fixture
def cluster(kube_api, core):
    """A cluster the default release fits: Kubernetes 1.31, the release's namespace, a default StorageClass."""
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=NAMESPACE)))
    kube_api.server.create(storage_class("standard", default=True))
    return kube_api


def test_a_ready_cluster_passes(cluster, core, chart_suite, tmp_path):
    core.create_namespaced_secret(NAMESPACE, secret("s3-creds", **{"root-user": "u", "root-password": "p"}))
    core.create_namespaced_secret(NAMESPACE, secret("registry-db", uri="postgresql://db/mlflow"))
    config = hooks_json(chart_suite, tmp_path, "global.s3.existingSecret=s3-creds",
                        "modelRegistry.database.existingSecret=registry-db")

    code, report, output = preflight(config)

    assert code == 0, output
    assert {r["status"] for r in report["results"]} == {"passed"}
    checks = {r["check"] for r in report["results"]}
    assert checks == {"values", "kubernetes-version", "router-crds", "storage-class", "secrets"}
    assert {r["component"] for r in report["results"] if r["check"] == "secrets"} == {"s3-creds", "registry-db"}
    asked = {path.partition("?")[0].rstrip("/") for method, path in cluster.server.requests if method == "GET"}
    assert {"/version", "/apis/storage.k8s.io/v1/storageclasses"} <= asked  # it really asked the cluster


@pytest.mark.parametrize(("version", "minimum", "set_values"), [
    ("v1.29.4", "1.30", ()),                                          # the chart's default minimum
    ("v1.31.0", "1.32", ("hooks.preflight.minKubernetesVersion=1.32",)),
])
def test_an_old_kubernetes_is_named_with_what_to_fix(cluster, chart_suite, tmp_path, version, minimum, set_values):
    cluster.server.set_version(version)
    code, report, output = preflight(hooks_json(chart_suite, tmp_path, *set_values))

    assert code == 1, output
    [problem] = failed(report)
    found = version.lstrip("v").rsplit(".", 1)[0]
    assert problem["check"] == "kubernetes-version" and problem["component"] == "cluster"
    assert f"Kubernetes {found} ({version}) is older than {minimum}" in problem["detail"]
    assert f"upgrade the cluster to {minimum}" in problem["detail"]
    assert "hooks.preflight.minKubernetesVersion" in problem["detail"]


@pytest.mark.parametrize(("router", "group", "kind"), [
    ("gateway-api", "gateway.networking.k8s.io", "HTTPRoute"),
    ("istio", "networking.istio.io", "VirtualService"),
])
def test_a_router_without_its_crd_is_named_until_the_crd_is_there(cluster, chart_suite, tmp_path, router, group,
                                                                   kind):
    config = hooks_json(chart_suite, tmp_path, f"modelServer.router.type={router}")

    code, report, output = preflight(config)
    assert code == 1, output
    [problem] = failed(report)
    assert (problem["check"], problem["component"]) == ("router-crds", "model-server")
    assert f"router {router} needs {kind} ({group}/v1)" in problem["detail"]
    assert "modelServer.router.type" in problem["detail"]

    cluster.server.add_crd(group, "v1", kind)
    code, report, output = preflight(config)
    assert code == 0, output
    assert f"{kind} {group}/v1 served" in [r["detail"] for r in report["results"]]


def test_another_groups_crd_does_not_satisfy_the_router(cluster, chart_suite, tmp_path):
    cluster.server.add_crd("gateway.networking.k8s.io", "v1", "Gateway")   # the group, but not HTTPRoute
    code, report, output = preflight(hooks_json(chart_suite, tmp_path, "modelServer.router.type=gateway-api"))
    assert code == 1, output
    assert [r["check"] for r in failed(report)] == ["router-crds"]


def test_no_default_storage_class_is_named(kube_api, chart_suite, tmp_path):
    kube_api.server.create(storage_class("local-path"))                    # exists, but is not the default
    code, report, output = preflight(hooks_json(chart_suite, tmp_path))

    assert code == 1, output
    [problem] = failed(report)
    assert (problem["check"], problem["component"]) == ("storage-class", "cluster")
    assert "no default StorageClass" in problem["detail"]
    assert "set global.storageClass to one of ['local-path']" in problem["detail"]
    assert "storageclass.kubernetes.io/is-default-class=true" in problem["detail"]


def test_a_storage_class_the_cluster_lacks_is_named_with_its_values_key(cluster, chart_suite, tmp_path):
    code, report, output = preflight(hooks_json(chart_suite, tmp_path, "global.storageClass=fast-ssd",
                                                "prometheus.persistence.storageClass=archive"))
    assert code == 1, output
    details = sorted(r["detail"] for r in failed(report))
    assert details == [
        ("StorageClass 'archive' (prometheus.persistence.storageClass) does not exist: use one of ['standard'] "
         "or create it"),
        "StorageClass 'fast-ssd' (global.storageClass) does not exist: use one of ['standard'] or create it",
    ]


def test_no_dynamic_provisioning_asks_for_no_storage_class(kube_api, chart_suite, tmp_path):
    """storageClass "-" renders storageClassName "" (pre-provisioned volumes): no StorageClass is needed."""
    code, report, output = preflight(hooks_json(chart_suite, tmp_path, "global.storageClass=-"))
    assert code == 0, output
    assert "no volume needs a StorageClass" in [r["detail"] for r in report["results"]]


def test_a_missing_existing_secret_is_named_with_its_keys_and_values_key(cluster, chart_suite, tmp_path):
    code, report, output = preflight(hooks_json(chart_suite, tmp_path, "global.s3.existingSecret=s3-creds",
                                                "pipelineController.database.existingSecret=pipelines-db"))
    assert code == 1, output
    problems = {r["component"]: r["detail"] for r in failed(report)}
    assert set(problems) == {"s3-creds", "pipelines-db"}
    assert problems["s3-creds"].startswith(f"Secret s3-creds (global.s3.existingSecret) not found in namespace "
                                           f"{NAMESPACE}: create it with keys root-user, root-password")
    assert f"kubectl create secret generic s3-creds -n {NAMESPACE}" in problems["s3-creds"]
    assert problems["pipelines-db"].startswith("Secret pipelines-db (pipelineController.database.existingSecret) "
                                               f"not found in namespace {NAMESPACE}: create it with keys uri")


def test_a_secret_without_an_expected_key_names_the_secret_the_key_and_the_values_key(cluster, core, chart_suite,
                                                                                     tmp_path):
    core.create_namespaced_secret(NAMESPACE, secret("minio-root", **{"root-user": "admin"}))
    core.create_namespaced_secret(NAMESPACE, secret("mlflow-db", url="postgresql://db/mlflow"))  # not `uri`
    core.create_namespaced_secret(NAMESPACE, secret("tuning-db", uri=""))                        # empty
    code, report, output = preflight(hooks_json(
        chart_suite, tmp_path, "global.s3.existingSecret=minio-root", "minio.auth.existingSecret=minio-root",
        "modelRegistry.database.existingSecret=mlflow-db", "tuningService.database.existingSecret=tuning-db",
        "trainingOperator.database.existingSecret=training-db"))                               # absent

    assert code == 1, output
    problems = {r["component"]: r["detail"] for r in failed(report)}
    assert set(problems) == {"minio-root", "mlflow-db", "tuning-db", "training-db"}, output
    assert problems["training-db"].startswith("Secret training-db (trainingOperator.database.existingSecret) not "
                                              "found")
    assert problems["minio-root"] == ("Secret minio-root (global.s3.existingSecret) lacks non-empty keys "
                                      "root-password: add them (it has root-user)")
    assert problems["mlflow-db"] == ("Secret mlflow-db (modelRegistry.database.existingSecret) lacks non-empty "
                                     "keys uri: add them (it has url)")
    assert problems["tuning-db"].startswith("Secret tuning-db (tuningService.database.existingSecret) lacks "
                                            "non-empty keys uri")


def test_a_disabled_components_secret_is_not_asked_for(cluster, chart_suite, tmp_path):
    code, _, output = preflight(hooks_json(chart_suite, tmp_path, "tuningService.enabled=false",
                                           "dashboard.backends.tuning.enabled=false",
                                           "tuningService.database.existingSecret=nowhere",
                                           "trainingOperator.enabled=false",
                                           "trainingOperator.database.existingSecret=nowhere"))
    assert code == 0, output


def test_values_that_do_not_fit_together_exit_2(cluster, chart_suite, tmp_path):
    """Only the values are at fault (the cluster is fine): exit 2, naming the key."""
    override = tmp_path / "override.yaml"
    override.write_text(yaml.safe_dump({"modelServer": {"canary": {"enabled": True, "models": []}}}))
    code, report, output = preflight(hooks_json(chart_suite, tmp_path), "--values", str(override))

    assert code == 2, output
    [problem] = failed(report)
    assert problem["check"] == "values" and "modelServer.canary.models is empty" in problem["detail"]


def test_the_cluster_lacking_something_wins_over_bad_values(kube_api, chart_suite, tmp_path):
    override = tmp_path / "override.yaml"
    override.write_text(yaml.safe_dump({"modelServer": {"canary": {"enabled": True, "models": []}}}))
    code, report, output = preflight(hooks_json(chart_suite, tmp_path), "--values", str(override))
    assert code == 1, output   # no StorageClass and bad values: the cluster must be fixed too
    assert {r["check"] for r in failed(report)} == {"values", "storage-class"}


def kubeconfig_for(kube_api, server: str, path: Path) -> Path:
    """The test server's kubeconfig pointed at another server."""
    kubeconfig = yaml.safe_load(kube_api.kubeconfig.read_text())
    kubeconfig["clusters"][0]["cluster"]["server"] = server
    path.write_text(yaml.safe_dump(kubeconfig))
    return path


def test_an_api_server_that_refuses_connections_exits_3_naming_it(kube_api, chart_suite, tmp_path):
    dead = f"http://127.0.0.1:{free_port()}"
    kubeconfig = kubeconfig_for(kube_api, dead, tmp_path / "kubeconfig")

    code, report, output = preflight(hooks_json(chart_suite, tmp_path), "--kubeconfig", str(kubeconfig))

    assert code == 3, output
    assert report == {}, "no report: one clear line instead"
    assert f"error: the Kubernetes API at {dead} did not answer: " in output
    assert "Connection refused" in output and "Traceback" not in output


def test_an_api_server_that_hangs_exits_3_within_the_timeout(kube_api, chart_suite, tmp_path):
    """A server that takes the connection and never answers must not hold the hook until its Job deadline."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        hanging = f"http://127.0.0.1:{silent.getsockname()[1]}"
        kubeconfig = kubeconfig_for(kube_api, hanging, tmp_path / "kubeconfig")
        started = time.monotonic()
        code, _, output = preflight(hooks_json(chart_suite, tmp_path), "--kubeconfig", str(kubeconfig),
                                    "--timeout", "0.5")
    assert code == 3, output
    assert f"the Kubernetes API at {hanging} did not answer" in output and "timed out" in output.lower()
    assert time.monotonic() - started < 30


def test_without_a_config_it_says_where_the_config_comes_from(kube_api, tmp_path):
    code, _, output = preflight(tmp_path / "absent.json")
    assert code == 2
    assert "MLP_HOOK_CONFIG" in output and "/etc/mlplatform/hooks.json" in output


def test_the_chart_runs_preflight_before_install_and_stops_it(cluster, chart_suite):
    """The real hook Job (helm 3 pre-install, run here as a local process): on a too-old cluster the install
    fails before any workload exists, and the Job's log says what to fix; on a fitting one it passes."""
    cluster.server.run_jobs = True
    chart = str(chart_suite.staged(3) / UMBRELLA)
    args = ("--namespace", NAMESPACE, "--set", "hooks.register.enabled=false", "--timeout", "60s")
    cluster.server.set_version("v1.29.4")
    refused = cluster.helm(3, "install", "mlp", chart, *args, check=False)
    assert refused.returncode != 0 and "mlp-mlplatform-preflight" in refused.stderr, refused.stderr
    assert cluster.server.objects("apps/v1", "Deployment", NAMESPACE) == []
    pods = [p["metadata"]["name"] for p in cluster.server.objects("v1", "Pod", NAMESPACE)
            if p["metadata"]["name"].startswith("mlp-mlplatform-preflight")]
    log = client.CoreV1Api(cluster.api_client()).read_namespaced_pod_log(pods[-1], NAMESPACE)
    assert "Kubernetes 1.29 (v1.29.4) is older than 1.30: upgrade the cluster" in log, log

    cluster.helm(3, "uninstall", "mlp", "--namespace", NAMESPACE, check=False)
    cluster.server.set_version("v1.31.0")
    cluster.server.kubelet = True
    cluster.helm(3, "install", "mlp", chart, *args, "--wait")
