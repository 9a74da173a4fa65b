"""Selectors and the other immutable fields do not change when values change, so `helm upgrade` never fails on them.

Selector labels are name and instance only (the model server's Deployments add their constant `track`).
"""

import pytest

from mlplatform.values.charts import Render
from tests.support.chart_fixtures import HELM_PARAMS, RENDER_CASES

SELECTOR_LABELS = {"app.kubernetes.io/name", "app.kubernetes.io/instance"}
BASE = ("modelServer.canary.enabled=true", "modelServer.canary.weight=10", "modelServer.replicaCount=4")
VARIATIONS = {
    "image-tags": ("pipelineController.image.tag=0.2.0", "modelServer.image.tag=0.2.0",
                   "minio.image.tag=RELEASE.2025-09-07T16-13-09Z", "prometheus.image.tag=v3.6.0"),
    "replicas": ("modelServer.replicaCount=8", "prometheus.replicaCount=2", "minio.replicaCount=4",
                 "dashboard.replicaCount=3"),
    "environment": ("pipelineController.extraEnv[0].name=LOG_LEVEL", "pipelineController.extraEnv[0].value=debug",
                    "modelServer.mlserver.parallelWorkers=4"),
    "canary-weight": ("modelServer.canary.weight=90",),
    "canary-off": ("modelServer.canary.enabled=false", "modelServer.canary.weight=0"),
    "router": ("modelServer.router.type=istio",),
    "pod-labels-and-annotations": ("modelRegistry.podLabels.team=ml", "tuningService.podAnnotations.owner=ml",
                                   "dashboard.podLabels.team=ml", "trainingOperator.podAnnotations.owner=ml"),
    "resources-and-storage": ("modelServer.resources.requests.cpu=2", "minio.persistence.size=20Gi",
                              "prometheus.retention=30d"),
    "air-gapped": ("global.imageRegistry=registry.internal", "global.imagePullSecrets[0]=regcred"),
    "policies": ("modelServer.pdb.enabled=true", "minio.networkPolicy.enabled=true", "dashboard.pdb.enabled=true",
                 "trainingOperator.networkPolicy.enabled=true", "dashboard.autoscaling.enabled=true"),
}
# Switching routers is meant to move traffic: the routed entry selects both tracks only with `replicas`.
INTENDED_CHANGES = {"router": {("Service", "mlp-model-server")}}
SELECTED = ("Deployment", "StatefulSet", "Service", "PodDisruptionBudget")


def immutable_fields(objects: list[dict]) -> dict[tuple[str, str], object]:
    """(kind, name) -> the fields an upgrade may not change (or, for Services, must not: traffic follows them)."""
    fields = {}
    for obj in objects:
        key, spec = (obj["kind"], obj["metadata"]["name"]), obj.get("spec", {})
        if obj["kind"] in ("Deployment", "PodDisruptionBudget"):
            fields[key] = spec["selector"]
        elif obj["kind"] == "StatefulSet":
            fields[key] = (spec["selector"], spec["serviceName"], spec["podManagementPolicy"],
                           [claim["metadata"] for claim in spec.get("volumeClaimTemplates", [])])
        elif obj["kind"] == "Service":
            fields[key] = spec.get("selector")
    return fields


@pytest.mark.parametrize("helm", HELM_PARAMS)
@pytest.mark.parametrize("variation", VARIATIONS, ids=str)
def test_immutable_fields_survive_a_values_change(chart_suite, variation, helm):
    before = immutable_fields(chart_suite.objects(Render("mlplatform", set_values=BASE), helm))
    after = immutable_fields(chart_suite.objects(Render("mlplatform", set_values=BASE + VARIATIONS[variation]), helm))
    changed = {key: (before[key], after[key]) for key in before.keys() & after.keys() if before[key] != after[key]}
    assert set(changed) == INTENDED_CHANGES.get(variation, set()), changed
    assert len(before.keys() & after.keys()) >= 10, "the variation should keep most objects"


@pytest.mark.parametrize("case", RENDER_CASES, ids=lambda case: case.id)
def test_selectors_hold_name_and_instance_only(chart_suite, case):
    for obj in chart_suite.objects(case.render):
        if obj["kind"] not in SELECTED:
            continue
        spec = obj["spec"]
        selector = spec["selector"] if obj["kind"] == "Service" else spec["selector"]["matchLabels"]
        extra = set(selector) - SELECTOR_LABELS
        name = f"{obj['kind']}/{obj['metadata']['name']}"
        assert SELECTOR_LABELS <= set(selector), name
        if extra:  # only the model server's tracks, each a constant of its own objects
            assert extra == {"track"} and selector["app.kubernetes.io/name"] == "model-server", name
            assert obj["kind"] == "Service" or obj["metadata"]["name"].endswith(f"-{selector['track']}"), name
        if obj["kind"] in ("Deployment", "StatefulSet"):
            assert selector.items() <= spec["template"]["metadata"]["labels"].items(), f"{name} selects none of its pods"


def test_the_tracks_split_the_model_server_pods(chart_suite):
    objects = chart_suite.objects(Render("mlplatform", set_values=BASE + ("modelServer.canary.weight=25",)))
    replicas = {obj["metadata"]["name"]: obj["spec"]["replicas"] for obj in objects if obj["kind"] == "Deployment"
                and obj["metadata"]["labels"]["app.kubernetes.io/name"] == "model-server"}
    assert replicas == {"mlp-model-server-stable": 3, "mlp-model-server-canary": 1}
    routed = next(obj for obj in objects if obj["kind"] == "Service" and obj["metadata"]["name"] == "mlp-model-server")
    assert "track" not in routed["spec"]["selector"], "the replicas router's entry selects both tracks"
