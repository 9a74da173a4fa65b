"""The Kubernetes routers agree with the model-server chart: the object names and the replica split."""

from __future__ import annotations

import pytest
from kubernetes import client

from mlplatform.errors import ConfigError
from mlplatform.routers import RouterContext
from mlplatform.routers.gateway_api import GatewayApiRouter
from mlplatform.routers.replicas import ReplicasRouter
from mlplatform.values.charts import Render

LONG_RELEASE = "a-release-name-as-long-as-helm-allows-fifty-three-chr"  # the longest Helm allows


def context(release: str) -> RouterContext:
    return RouterContext(release=release, namespace="mlplatform", api_client=client.ApiClient())


def test_object_names_are_the_charts_even_when_cut_to_63_characters(chart_suite):
    render = Render("model-server", release=LONG_RELEASE,
                    set_values=("canary.enabled=true", "canary.weight=10", "router.type=gateway-api"))
    route = next(obj for obj in chart_suite.objects(render) if obj["kind"] == "HTTPRoute")
    router = GatewayApiRouter({}, context(LONG_RELEASE))
    assert route["metadata"]["name"] == router.object_name()
    assert [ref["name"] for ref in route["spec"]["rules"][0]["backendRefs"]] == \
        [router.object_name("stable"), router.object_name("canary")]
    assert all(len(router.object_name(track)) <= 63 for track in (None, "stable", "canary"))


@pytest.mark.parametrize("replica_count, weight", [(2, 10), (3, 1), (3, 50), (5, 33), (5, 99), (4, 100)])
def test_the_replicas_split_is_the_charts(chart_suite, replica_count, weight):
    render = Render("model-server", set_values=("canary.enabled=true", f"canary.weight={weight}",
                                                "router.type=replicas", f"replicaCount={replica_count}"))
    rendered = {obj["metadata"]["labels"]["track"]: obj["spec"]["replicas"]
                for obj in chart_suite.objects(render) if obj["kind"] == "Deployment"}
    router = ReplicasRouter({"replicaCount": replica_count}, context("mlp"))
    assert router.replica_counts(weight) == rendered
    assert router.achievable_weight(weight) == round(100 * rendered["canary"] / replica_count)


def test_kubernetes_routers_need_a_release_and_an_api_client():
    with pytest.raises(ConfigError, match="needs a release and a Kubernetes API client"):
        ReplicasRouter({}, RouterContext(release="mlp"))
