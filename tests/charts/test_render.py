"""Every chart renders cleanly on helm 3 and helm 4: alone with its ci values, and through the umbrella per environment."""

import json
from urllib.parse import urlsplit

import pytest

from mlplatform.values import charts
from mlplatform.values.charts import Render
from tests.support.chart_fixtures import HELM_PARAMS, RENDER_CASES

RECOMMENDED_LABELS = (
    "app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/component",
    "app.kubernetes.io/part-of", "app.kubernetes.io/managed-by", "app.kubernetes.io/version", "helm.sh/chart",
)


def ignoring_generated_secrets(objects: list[dict]) -> list[dict]:
    """The objects, with the values Helm generates at random (the MinIO root password) blanked."""
    return [{**obj, "data": {key: "<generated>" for key in obj.get("data", {})}} if obj["kind"] == "Secret" else obj
            for obj in objects]


@pytest.mark.parametrize("helm", HELM_PARAMS)
@pytest.mark.parametrize("case", RENDER_CASES, ids=lambda case: case.id)
def test_renders_named_and_labelled_objects(chart_suite, case, helm):
    objects = chart_suite.objects(case.render, helm)
    assert objects, f"{case.id} rendered nothing"
    # An object is its kind, namespace and name: a controller has a Role of one name in each watched namespace.
    keys = [(obj["kind"], obj["metadata"].get("namespace", ""), obj["metadata"]["name"]) for obj in objects]
    assert len(keys) == len(set(keys)), f"{case.id} renders an object twice: {sorted(keys)}"
    for obj in objects:
        name, labels = obj["metadata"]["name"], obj["metadata"].get("labels", {})
        cluster_scoped = obj["kind"].startswith("Cluster") or obj["kind"] == "Namespace"   # profiles' namespaces
        assert len(name) <= 63 and name.startswith(f"{case.render.release}-") or cluster_scoped, name
        missing = [label for label in RECOMMENDED_LABELS if label not in labels]
        assert not missing, f"{obj['kind']}/{name} lacks the labels {missing}"
        assert "namespace" in obj["metadata"] or cluster_scoped, f"{obj['kind']}/{name} has no namespace"


@pytest.mark.parametrize("case", RENDER_CASES, ids=lambda case: case.id)
def test_helm_3_and_helm_4_render_the_same_objects(chart_suite, case):
    assert ignoring_generated_secrets(chart_suite.objects(case.render, 3)) == \
        ignoring_generated_secrets(chart_suite.objects(case.render, 4))


@pytest.mark.parametrize("helm", HELM_PARAMS)
def test_alias_and_long_release_names_keep_component_names_within_63_characters(chart_suite, helm):
    release = "a-release-name-that-is-long-enough-to-need-truncation"
    objects = chart_suite.objects(Render("mlplatform", release=release), helm)
    names = [(obj["kind"], obj["metadata"].get("namespace", ""), obj["metadata"]["name"]) for obj in objects]
    # Namespaced names become DNS labels and label values: 63 characters. Cluster-scoped ones may be longer.
    too_long = [name for kind, _, name in names if len(name) > (253 if kind.startswith("Cluster") else 63)]
    assert not too_long
    assert len(names) == len(set(names)), "truncation made two names collide"
    components = {obj["metadata"]["labels"]["app.kubernetes.io/name"] for obj in objects}
    # The umbrella's aliases (pipelineController, ...) are turned back into component names.
    assert components == {"mlplatform", "pipeline-controller", "tuning-service", "model-server",
                          "model-registry", "minio", "prometheus", "dashboard", "training-operator"}
    # Components find each other under the truncated names too.
    services = {obj["metadata"]["name"] for obj in objects if obj["kind"] == "Service"}
    config = next(obj for obj in objects if obj["kind"] == "ConfigMap" and "hooks.json" in (obj.get("data") or {}))
    urls = json.loads(config["data"]["hooks.json"])["endpoints"]["services"].values()
    assert {urlsplit(url).hostname for url in urls} <= services


@pytest.mark.parametrize("helm", HELM_PARAMS)
def test_services_have_the_contract_names_and_ports(chart_suite, helm):
    services = {obj["metadata"]["name"]: sorted(port["port"] for port in obj["spec"]["ports"])
                for obj in chart_suite.objects(Render("mlplatform", set_values=("modelServer.canary.enabled=true",)), helm)
                if obj["kind"] == "Service"}
    assert services == {
        "mlp-pipeline-controller": [8888],
        "mlp-tuning-service": [8585],
        "mlp-model-server": [8080, 8081, 8082],
        "mlp-model-server-stable": [8080, 8081, 8082],
        "mlp-model-server-canary": [8080, 8081, 8082],
        "mlp-model-registry": [5000],
        "mlp-minio": [9000],
        "mlp-minio-console": [9001],
        "mlp-minio-headless": [9000],
        "mlp-prometheus": [9090],
        "mlp-dashboard": [8080],
        "mlp-training-operator": [8686],
    }


@pytest.mark.helm4
def test_install_notes_name_the_endpoints_and_the_cleanup(chart_suite):
    # `helm template` skips NOTES.txt; helm 4's client dry run renders it without a cluster (helm 3's needs one).
    result = chart_suite.run("install", "mlp", "mlplatform", "--dry-run=client", "--namespace", "ml",
                             "--values", str(charts.environment_values("prod")), helm=4)
    assert result.returncode == 0, result.stderr
    notes = result.stdout.split("NOTES:", 1)[1]
    for line in ("http://mlp-pipeline-controller:8888", "http://mlp-model-server:8080/v2/models/<model>/infer",
                 "dashboard (web UI)    http://mlp-dashboard:8080", "training operator     http://mlp-training-operator:8686",
                 "router gateway-api", "helm test mlp -n ml", "kubectl -n ml logs job/mlp-mlplatform-validate",
                 "mlplatform.io/hook"):
        assert line in notes
