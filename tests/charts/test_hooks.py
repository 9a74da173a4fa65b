"""The umbrella's hooks (contracts §5, §6): phases, weights, delete policies, bounds, RBAC and config."""

import json

import pytest

from mlplatform.endpoints import Endpoints
from mlplatform.values.charts import Render
from tests.support.chart_fixtures import HELM_PARAMS, RENDER_CASES, environment_case, umbrella_version

ALL_HOOKS = Render("mlplatform", set_values=("modelServer.canary.enabled=true", "modelServer.canary.weight=10",
                                             "modelServer.replicaCount=4"))
SETUP = {"helm.sh/hook": "pre-install,pre-upgrade", "helm.sh/hook-weight": "-10",
         "helm.sh/hook-delete-policy": "before-hook-creation"}
JOBS = {
    "preflight": ("pre-install,pre-upgrade", "-5", "before-hook-creation,hook-succeeded"),
    "register": ("post-install,post-upgrade", "5", "before-hook-creation,hook-succeeded"),
    "canary-analysis": ("post-upgrade", "10", "before-hook-creation,hook-succeeded"),
    # Kept after success: its report is read from the pod's log.
    "validate": ("test", "0", "before-hook-creation"),
}
VALIDATE_RULES = [
    {"apiGroups": [""], "resources": ["pods", "services", "endpoints"], "verbs": ["get", "list"]},
    {"apiGroups": ["apps"], "resources": ["deployments", "statefulsets"], "verbs": ["get", "list"]},
]

helms = pytest.mark.parametrize("helm", HELM_PARAMS)


def hook_objects(objects: list[dict], hook: str | None = None) -> list[dict]:
    return [obj for obj in objects if "mlplatform.io/hook" in obj["metadata"]["labels"]
            and hook in (None, obj["metadata"]["labels"]["mlplatform.io/hook"])]


def one(objects: list[dict], kind: str, hook: str) -> dict:
    found = [obj for obj in hook_objects(objects, hook) if obj["kind"] == kind]
    assert len(found) == 1, f"expected one {kind} for hook {hook}, found {len(found)}"
    return found[0]


@helms
def test_every_hook_object_is_a_hook_with_its_phase_weight_and_delete_policy(chart_suite, helm):
    objects = chart_suite.objects(ALL_HOOKS, helm)
    assert {obj["metadata"]["labels"]["mlplatform.io/hook"] for obj in hook_objects(objects)} == {*JOBS, "config"}
    for obj in hook_objects(objects):
        annotations = obj["metadata"]["annotations"]
        if obj["kind"] == "Job":
            events, weight, policy = JOBS[obj["metadata"]["labels"]["mlplatform.io/hook"]]
            assert (annotations["helm.sh/hook"], annotations["helm.sh/hook-weight"],
                    annotations["helm.sh/hook-delete-policy"]) == (events, weight, policy)
        else:  # config and RBAC exist before the first hook runs and stay for the later ones
            assert {key: annotations[key] for key in SETUP} == SETUP, f"{obj['kind']}/{obj['metadata']['name']}"


@helms
def test_hook_jobs_are_bounded_and_run_their_mlp_command(chart_suite, helm):
    objects = chart_suite.objects(ALL_HOOKS, helm)
    settings = {"preflight": (1, 300), "register": (3, 900), "canary-analysis": (0, 900), "validate": (0, 600)}
    for hook, (backoff, deadline) in settings.items():
        job = one(objects, "Job", hook)
        spec, pod = job["spec"], job["spec"]["template"]["spec"]
        assert (spec["backoffLimit"], spec["activeDeadlineSeconds"], spec["ttlSecondsAfterFinished"]) == (backoff, deadline, 3600)
        assert pod["restartPolicy"] == "Never"
        container = pod["containers"][0]
        assert container["command"] == ["mlp", "hook", hook]
        env = {var["name"]: var for var in container["env"]}
        assert env["MLP_HOOK_CONFIG"]["value"] == "/etc/mlplatform/hooks.json"
        assert env["POD_NAMESPACE"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.namespace"
        assert ("AWS_ACCESS_KEY_ID" in env) is (hook in ("register", "validate")), f"{hook}: S3 credentials"
        mounts = {mount["name"]: mount["mountPath"] for mount in container["volumeMounts"]}
        volumes = {volume["name"]: volume for volume in pod["volumes"]}
        assert mounts["config"] == "/etc/mlplatform"
        assert volumes["config"]["configMap"]["name"] == "mlp-mlplatform-hooks"
        assert pod["serviceAccountName"] == f"mlp-mlplatform-{hook}"


@helms
def test_hook_settings_come_from_values(chart_suite, helm):
    render = Render("mlplatform", set_values=("hooks.register.backoffLimit=5", "hooks.register.activeDeadlineSeconds=120",
                                              "hooks.register.ttlSecondsAfterFinished=60",
                                              "hooks.register.resources.limits.memory=1Gi"))
    job = one(chart_suite.objects(render, helm), "Job", "register")
    assert (job["spec"]["backoffLimit"], job["spec"]["activeDeadlineSeconds"], job["spec"]["ttlSecondsAfterFinished"]) == (5, 120, 60)
    assert job["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"] == "1Gi"


@helms
def test_hook_rbac_is_exactly_what_each_hook_uses(chart_suite, helm):
    objects = chart_suite.objects(ALL_HOOKS, helm)
    for hook in ("register", "canary-analysis"):  # no Kubernetes API: no Role, no token
        assert {obj["kind"] for obj in hook_objects(objects, hook)} == {"ServiceAccount", "Job"}
        assert one(objects, "Job", hook)["spec"]["template"]["spec"]["automountServiceAccountToken"] is False
    assert one(objects, "Role", "validate")["rules"] == VALIDATE_RULES
    binding = one(objects, "RoleBinding", "validate")
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "mlp-mlplatform-validate"}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "mlp-mlplatform-validate", "namespace": "mlplatform"}]
    # No secret named in the default values: preflight needs no namespaced Role.
    assert not [obj for obj in hook_objects(objects, "preflight") if obj["kind"] == "Role"]
    assert one(objects, "ClusterRole", "preflight")["rules"] == [
        {"apiGroups": ["storage.k8s.io"], "resources": ["storageclasses"], "verbs": ["get", "list"]}]


@helms
def test_preflight_reads_only_the_secrets_the_values_name(chart_suite, helm):
    objects = chart_suite.objects(environment_case("prod").render, helm)
    assert one(objects, "Role", "preflight")["rules"] == [{
        "apiGroups": [""], "resources": ["secrets"], "verbs": ["get"],
        "resourceNames": ["mlplatform-mlflow-db", "mlplatform-pipelines-db", "mlplatform-s3", "mlplatform-training-db",
                          "mlplatform-tuning-db"],
    }]


@helms
def test_preflight_cluster_read_access_is_switchable(chart_suite, helm):
    objects = chart_suite.objects(Render("mlplatform", set_values=("hooks.preflight.clusterReadAccess=false",)), helm)
    assert not [obj for obj in objects if obj["kind"].startswith("Cluster")]


@helms
@pytest.mark.parametrize("hook,key", [("preflight", "preflight"), ("register", "register"),
                                      ("canary-analysis", "canaryAnalysis"), ("validate", "validate")])
def test_each_hook_switches_off(chart_suite, hook, key, helm):
    objects = chart_suite.objects(Render("mlplatform", set_values=(*ALL_HOOKS.set_values, f"hooks.{key}.enabled=false")), helm)
    assert not hook_objects(objects, hook)
    assert hook_objects(objects, "config"), "the other hooks still need their config"


@helms
def test_no_hook_no_config(chart_suite, helm):
    off = tuple(f"hooks.{key}.enabled=false" for key in ("preflight", "register", "canaryAnalysis", "validate"))
    assert not hook_objects(chart_suite.objects(Render("mlplatform", set_values=off), helm))


@helms
def test_canary_analysis_runs_only_with_a_canary(chart_suite, helm):
    assert not hook_objects(chart_suite.objects(Render("mlplatform"), helm), "canary-analysis")
    assert hook_objects(chart_suite.objects(ALL_HOOKS, helm), "canary-analysis")


@helms
def test_hooks_config_has_the_release_endpoints_and_values(chart_suite, helm):
    objects = chart_suite.objects(ALL_HOOKS, helm)
    config = json.loads(one(objects, "ConfigMap", "config")["data"]["hooks.json"])
    assert set(config) == {"release", "namespace", "chartVersion", "endpoints", "values"}
    assert (config["release"], config["namespace"], config["chartVersion"]) == ("mlp", "mlplatform", umbrella_version())
    endpoints = Endpoints.from_dict(config["endpoints"], source="hooks.json")  # the shape local mode writes
    assert (endpoints.platform, endpoints.namespace, endpoints.release) == ("kubernetes", "mlplatform", "mlp")
    assert endpoints.services == {
        "pipeline-controller": "http://mlp-pipeline-controller:8888",
        "tuning-service": "http://mlp-tuning-service:8585",
        "model-registry": "http://mlp-model-registry:5000",
        "minio": "http://mlp-minio:9000",
        "prometheus": "http://mlp-prometheus:9090",
        "model-server": "http://mlp-model-server:8080",
        "model-server-stable": "http://mlp-model-server-stable:8080",
        "model-server-canary": "http://mlp-model-server-canary:8080",
        "training-operator": "http://mlp-training-operator:8686",
        "dashboard": "http://mlp-dashboard:8080",
    }
    values = config["values"]
    assert values["modelServer"]["canary"]["weight"] == 10
    assert values["modelServer"]["canary"]["analysis"]["iterations"] == 5, "subchart defaults are included"
    assert values["hooks"]["register"]["buckets"] == ["mlpipeline", "mlflow", "models"]


@helms
def test_hooks_config_lists_only_enabled_components(chart_suite, helm):
    render = Render("mlplatform", set_values=("tuningService.enabled=false", "prometheus.enabled=false",
                                              "dashboard.enabled=false", "trainingOperator.enabled=false",
                                              "tuningService.controller.trainingJobs=false"))
    config = json.loads(one(chart_suite.objects(render, helm), "ConfigMap", "config")["data"]["hooks.json"])
    assert set(config["endpoints"]["services"]) == {"pipeline-controller", "model-registry", "minio",
                                                    "model-server", "model-server-stable"}


@helms
def test_hooks_config_points_at_external_services(chart_suite, helm):
    case = next(case for case in RENDER_CASES if case.id == "mlplatform/external-services")
    config = json.loads(one(chart_suite.objects(case.render, helm), "ConfigMap", "config")["data"]["hooks.json"])
    services = config["endpoints"]["services"]
    assert services["minio"] == "https://s3.eu-west-1.amazonaws.com"
    assert services["model-registry"] == "https://mlflow.example.com"
    assert "prometheus" not in services
