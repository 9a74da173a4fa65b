"""The Kubernetes routers against the test API server, through the real kubernetes client.

Each case installs what the model-server chart renders for a weight (helm template), reads the
weight back with the router, sets another one, and checks the objects are what the chart renders
for that weight: a router's `set_weight` and a `helm upgrade` of the weight agree.
"""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import jsonschema
import pytest
from kubernetes import client

from mlplatform.errors import ConfigError
from mlplatform.routers import RouterContext, open_router
from mlplatform.values.charts import Render

pytest.importorskip("tests.support.kube_fixtures", reason="the test Kubernetes API server is not there yet")

NAMESPACE = "mlplatform"
CRD_SCHEMAS = Path(__file__).parents[1] / "charts" / "crd_schemas"
CUSTOM_RESOURCES = {   # kind -> (group, version, plural)
    "HTTPRoute": ("gateway.networking.k8s.io", "v1", "httproutes"),
    "VirtualService": ("networking.istio.io", "v1", "virtualservices"),
}
ROUTED_KINDS = {"gateway-api": ("HTTPRoute",), "istio": ("VirtualService",), "nginx": ("Ingress",),
                "replicas": ("Deployment",)}


def api_client_of(kube_api) -> client.ApiClient:
    """A client for the test API server, with the chart's namespace in place."""
    api = kube_api.api_client()
    try:
        client.CoreV1Api(api).create_namespace({"metadata": {"name": NAMESPACE}})
    except client.ApiException as error:
        if error.status != 409:
            raise
    return api


def crd(kind: str) -> dict:
    group, version, plural = CUSTOM_RESOURCES[kind]
    return {
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}"},
        "spec": {"group": group, "scope": "Namespaced",
                 "names": {"kind": kind, "plural": plural, "singular": kind.lower(), "listKind": f"{kind}List"},
                 "versions": [{"name": version, "served": True, "storage": True,
                               "schema": {"openAPIV3Schema": {"type": "object",
                                                              "x-kubernetes-preserve-unknown-fields": True}}}]},
    }


def values(router_type: str, weight: int, enabled: bool = True) -> dict:
    return {"router": {"type": router_type}, "replicaCount": 4,
            "canary": {"enabled": enabled, "weight": weight, "replicas": 1}}


def rendered(chart_suite, release: str, router_type: str, weight: int, enabled: bool = True) -> list[dict]:
    settings = values(router_type, weight, enabled)
    render = Render("model-server", release=release, namespace=NAMESPACE, set_values=(
        f"router.type={router_type}", f"replicaCount={settings['replicaCount']}",
        f"canary.enabled={str(enabled).lower()}", f"canary.weight={weight}", "canary.replicas=1"))
    return [obj for obj in chart_suite.objects(render) if obj["kind"] in ROUTED_KINDS[router_type]]


def create(api: client.ApiClient, obj: dict) -> None:
    obj = json.loads(json.dumps(obj))   # the rendered objects are shared: never change them
    kind = obj["kind"]
    if kind in CUSTOM_RESOURCES:
        group, version, plural = CUSTOM_RESOURCES[kind]
        client.CustomObjectsApi(api).create_namespaced_custom_object(group, version, NAMESPACE, plural, obj)
    elif kind == "Ingress":
        client.NetworkingV1Api(api).create_namespaced_ingress(NAMESPACE, obj)
    else:
        client.AppsV1Api(api).create_namespaced_deployment(NAMESPACE, obj)


def read(api: client.ApiClient, obj: dict) -> dict:
    kind, name = obj["kind"], obj["metadata"]["name"]
    if kind in CUSTOM_RESOURCES:
        group, version, plural = CUSTOM_RESOURCES[kind]
        return client.CustomObjectsApi(api).get_namespaced_custom_object(group, version, NAMESPACE, plural, name)
    if kind == "Ingress":
        found = client.NetworkingV1Api(api).read_namespaced_ingress(name, NAMESPACE)
    else:
        found = client.AppsV1Api(api).read_namespaced_deployment(name, NAMESPACE)
    return api.sanitize_for_serialization(found)


def routing(obj: dict) -> object:
    """The part of a routed object that carries the split."""
    if obj["kind"] == "HTTPRoute":
        return [(ref["name"], ref["weight"]) for rule in obj["spec"]["rules"] for ref in rule["backendRefs"]]
    if obj["kind"] == "VirtualService":
        return [(route["destination"]["host"], route["weight"]) for http in obj["spec"]["http"] for route in http["route"]]
    if obj["kind"] == "Ingress":
        annotations = obj["metadata"].get("annotations") or {}
        return {key: value for key, value in annotations.items() if "canary" in key}
    return obj["spec"]["replicas"]


@pytest.fixture
def release() -> str:
    """A release name of its own, so no test sees another's objects."""
    return f"r{uuid.uuid4().hex[:8]}"


def router_of(router_type: str, weight: int, release: str, api: client.ApiClient):
    return open_router(values(router_type, weight), RouterContext(release=release, namespace=NAMESPACE, api_client=api))


@pytest.fixture
def install(kube_api, chart_suite, release):
    api = api_client_of(kube_api)
    for kind in CUSTOM_RESOURCES:
        try:
            client.ApiextensionsV1Api(api).create_custom_resource_definition(crd(kind))
        except client.ApiException as error:
            if error.status != 409:   # already there from an earlier test
                raise

    def installed(router_type: str, weight: int):
        for obj in rendered(chart_suite, release, router_type, weight):
            create(api, obj)
        return router_of(router_type, weight, release, api)
    return installed


@pytest.mark.parametrize("router_type", ["gateway-api", "istio", "nginx", "replicas"])
def test_a_router_reads_the_charts_weight_and_sets_another_as_helm_would(install, kube_api, chart_suite, release,
                                                                         router_type):
    router = install(router_type, 20)
    assert router.get_weight() == router.achievable_weight(20)

    router.set_weight(75)
    assert router.get_weight() == router.achievable_weight(75)
    api = api_client_of(kube_api)
    for expected in rendered(chart_suite, release, router_type, 75):
        live = read(api, expected)
        assert routing(live) == routing(expected)
        schema = CRD_SCHEMAS / f"{expected['kind'].lower()}-{expected['apiVersion'].replace('/', '-')}.json"
        if schema.exists():
            jsonschema.validate({key: live[key] for key in ("apiVersion", "kind", "spec")}
                                | {"metadata": {"name": live["metadata"]["name"]}}, json.loads(schema.read_text()))

    router.set_weight(0)
    assert router.get_weight() == 0


@pytest.mark.parametrize("router_type, missing", [
    ("gateway-api", ("HTTPRoute {release}-model-server: not found in namespace mlplatform (the chart renders it "
                    "when modelServer.router.type is gateway-api)")),
    ("istio", "VirtualService {release}-model-server: not found"),
    ("nginx", "canary Ingress {release}-model-server-canary: not found"),
    ("replicas", "Deployment {release}-model-server-stable: not found"),
])
def test_a_router_without_its_object_names_it(kube_api, release, router_type, missing):
    router = router_of(router_type, 10, release, api_client_of(kube_api))
    with pytest.raises(ConfigError, match=re.escape(missing.format(release=release))):
        router.get_weight()
