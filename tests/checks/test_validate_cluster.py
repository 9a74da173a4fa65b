"""validate's Kubernetes-facing side against the test API server: the umbrella really installed by helm.

The workloads check reads the release's Deployments and StatefulSets (and, for an unready one, its
pods' container states) through the real kubernetes client; `mlp validate --release R` runs `helm test`
(helm 3 and 4), whose validate Job runs here as a local process (`run_jobs`). There is no cluster
network, so the services' health endpoints cannot answer: each of those checks must fail naming its
component and the cause.
"""

from __future__ import annotations

import json
import os
import socket

import pytest
import yaml
from kubernetes import client

from mlplatform.checks.base import FAILED, PASSED
from mlplatform.checks.cli import validate_config
from mlplatform.endpoints import Endpoints
from mlplatform.hooks.config import HookConfig
from mlplatform.tools import helm_binary
from mlplatform.values.charts import UMBRELLA
from tests.support.local_fixtures import mlp

RELEASE, NAMESPACE = "mlp", "ml"
WORKLOADS = {"pipeline-controller": "Deployment mlp-pipeline-controller",
             "tuning-service": "Deployment mlp-tuning-service",
             "training-operator": "Deployment mlp-training-operator",
             "dashboard": "Deployment mlp-dashboard",
             "model-registry": "Deployment mlp-model-registry",
             "model-server-stable": "Deployment mlp-model-server-stable",
             "minio": "StatefulSet mlp-minio",
             "prometheus": "StatefulSet mlp-prometheus"}


def install(kube_api, chart_suite, major: int, disabled_hooks: str = "preflight,register") -> None:
    """The umbrella installed by helm `major` with its defaults (--wait: every workload ready), the hooks
    named in `disabled_hooks` off (preflight and register would need the platform's network)."""
    kube_api.server.kubelet = True
    switches = ",".join(f"hooks.{hook}.enabled=false" for hook in disabled_hooks.split(","))
    kube_api.helm(major, "install", RELEASE, str(chart_suite.staged(major) / UMBRELLA), "--namespace", NAMESPACE,
                  "--create-namespace", "--set", switches, "--wait", "--timeout", "60s")


def mlp_validate(kube_api, major: int, *args: str):
    """`mlp validate --release` driving helm `major`, as `helm mlp validate` does (HELM_BIN)."""
    env = {**kube_api.helm_env(major), "HELM_BIN": str(helm_binary(major))}
    return mlp("validate", "--release", RELEASE, "--namespace", NAMESPACE, "--output", "json", *args,
               timeout=120, env=env)


@pytest.fixture
def release(kube_api, chart_suite, tmp_path):
    """The umbrella installed by helm 3; returns the release's hooks.json, from the cluster."""
    install(kube_api, chart_suite, 3)
    config_map = client.CoreV1Api(kube_api.api_client()).read_namespaced_config_map(
        f"{RELEASE}-mlplatform-hooks", NAMESPACE)
    path = tmp_path / "hooks.json"
    path.write_text(config_map.data["hooks.json"])
    return path


def workloads(config_path, **options) -> list:
    return validate_config(HookConfig.read(config_path), state_dir=None, checks=("workloads",), **options).results


def test_every_workload_of_a_ready_release_passes(release):
    results = workloads(release)
    assert {r.status for r in results} == {PASSED}, [r.detail for r in results]
    assert {r.component: r.detail.split(":")[0] for r in results} == WORKLOADS


def unready(kube_api, kind: str, name: str, *, replicas: int = 1) -> None:
    """The workload reports no ready replica (the controllers stopped: kubelet off)."""
    kube_api.server.kubelet = False
    apps = client.AppsV1Api(kube_api.api_client())
    patch = {"status": {"readyReplicas": 0, "availableReplicas": 0, "replicas": replicas}}
    if kind == "Deployment":
        apps.patch_namespaced_deployment_status(name, NAMESPACE, patch)
    else:
        apps.patch_namespaced_stateful_set_status(name, NAMESPACE, patch)


def failing_pod(kube_api, name: str, labels: dict, reason: str) -> None:
    """A pod of the workload whose container waits with `reason` (as a kubelet reports it)."""
    core = client.CoreV1Api(kube_api.api_client())
    core.create_namespaced_pod(NAMESPACE, {"metadata": {"name": name, "labels": labels},
                                           "spec": {"containers": [{"name": "server", "image": "example/x:1"}]}})
    core.patch_namespaced_pod_status(name, NAMESPACE, {"status": {"phase": "Running", "containerStatuses": [
        {"name": "server", "image": "example/x:1", "imageID": "", "ready": False, "restartCount": 4,
         "state": {"waiting": {"reason": reason, "message": "back-off restarting failed container"}}}]}})


def test_an_unready_deployment_is_named_with_its_pods_cause(kube_api, release):
    apps = client.AppsV1Api(kube_api.api_client())
    selector = apps.read_namespaced_deployment("mlp-model-registry", NAMESPACE).spec.selector.match_labels
    unready(kube_api, "Deployment", "mlp-model-registry")
    failing_pod(kube_api, "mlp-model-registry-5d9f-abcde", selector, "CrashLoopBackOff")

    # The hook's own command, with the chart's config: exit 1 and the report names component and cause.
    result = mlp("hook", "validate", "--check", "workloads", "--output", "json", timeout=60,
                 env={**os.environ, "MLP_HOOK_CONFIG": str(release)})
    assert result.returncode == 1, result.stdout + result.stderr
    report = json.loads(result.stdout)
    failed = [r for r in report["results"] if r["status"] == FAILED]
    assert [(r["component"], r["detail"]) for r in failed] == [
        ("model-registry", ("Deployment mlp-model-registry: 0/1 ready "
                            "(mlp-model-registry-5d9f-abcde/server: CrashLoopBackOff)"))]
    assert len(report["results"]) == len(WORKLOADS)   # the others still pass


def test_an_unready_statefulset_without_pods_says_so(kube_api, release):
    unready(kube_api, "StatefulSet", "mlp-minio")
    failed = [r for r in workloads(release) if r.status == FAILED]
    assert [(r.component, r.detail) for r in failed] == [("minio", "StatefulSet mlp-minio: 0/1 ready (no pods)")]


def test_a_release_that_is_not_there_is_named(kube_api, release):
    config = HookConfig.read(release)
    config.release = "other"
    [result] = validate_config(config, state_dir=None, checks=("workloads",)).results
    assert (result.status, result.component) == (FAILED, "kubernetes")
    assert result.detail == f"no Deployment or StatefulSet with app.kubernetes.io/instance=other in namespace {NAMESPACE}"


def test_an_api_server_that_hangs_fails_the_check_within_its_timeout(kube_api, tmp_path):
    """The workloads check waits `timeout` per request, then names the API as the cause."""
    config = HookConfig(endpoints=Endpoints(services={}, platform="kubernetes", namespace=NAMESPACE,
                                            release=RELEASE), release=RELEASE, namespace=NAMESPACE)
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        kubeconfig = yaml.safe_load(kube_api.kubeconfig.read_text())
        kubeconfig["clusters"][0]["cluster"]["server"] = f"http://127.0.0.1:{silent.getsockname()[1]}"
        path = tmp_path / "kubeconfig"
        path.write_text(json.dumps(kubeconfig))
        [result] = validate_config(config, state_dir=None, checks=("workloads",), timeout=0.5,
                                   kubeconfig=str(path)).results
    assert (result.status, result.component) == (FAILED, "kubernetes")
    assert result.detail.startswith(f"cannot list workloads in {NAMESPACE}: ") and result.seconds < 20


@pytest.mark.parametrize("major", [3, 4])
def test_validate_release_runs_helm_test_and_names_each_component_and_cause(kube_api, chart_suite, major):
    """`mlp validate --release R`: helm test runs the validate Job; without a cluster network the services do
    not answer, and every such failure names its component and why; the workloads it sees are ready."""
    install(kube_api, chart_suite, major)
    kube_api.server.run_jobs = True
    result = mlp_validate(kube_api, major, "--timeout", "2")
    assert result.returncode == 1, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["title"] == f"helm test {RELEASE} (namespace {NAMESPACE}): validate: release {RELEASE} in namespace {NAMESPACE}"
    by_check: dict[str, dict[str, dict]] = {}
    for r in report["results"]:
        by_check.setdefault(r["check"], {})[r["component"]] = r

    assert {c: r["status"] for c, r in by_check["workloads"].items()} == dict.fromkeys(WORKLOADS, PASSED)
    health = by_check["health"]
    assert set(health) == {"pipeline-controller", "tuning-service", "training-operator", "dashboard",
                           "model-registry", "minio", "prometheus", "model-server", "model-server-stable"}
    for component, r in health.items():
        assert r["status"] == FAILED, r
        assert r["detail"].startswith(f"GET http://{RELEASE}-{component}:"), r   # what it asked, then why
        assert r["detail"].partition(": ")[2], r
    assert by_check["s3"]["minio"]["status"] == FAILED and "mlp-minio:9000" in by_check["s3"]["minio"]["detail"]
    assert by_check["registry"]["model-registry"]["status"] == FAILED
    assert "did not answer" in by_check["registry"]["model-registry"]["detail"]
    assert by_check["prometheus-targets"]["prometheus"]["status"] == FAILED
    assert all(r["detail"] for r in report["results"] if r["status"] == FAILED)


@pytest.mark.parametrize("major", [3, 4])
def test_validate_release_without_the_validate_hook_says_so(kube_api, chart_suite, major):
    install(kube_api, chart_suite, major, disabled_hooks="preflight,register,validate")
    result = mlp_validate(kube_api, major)
    assert result.returncode == 1, result.stdout + result.stderr
    [failure] = json.loads(result.stdout)["results"]
    assert (failure["check"], failure["component"]) == ("helm-test", "validate")
    assert "hooks.validate.enabled" in failure["detail"]
