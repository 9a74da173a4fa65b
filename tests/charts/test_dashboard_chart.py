"""charts/dashboard (issue 15): `mlp serve dashboard` with each enabled backend's URL, the Service of the
release's component (library wiring), no API token and no state, egress only to DNS and its backends, and
an optional Ingress. Through the umbrella, a backend of a component that is off is refused by name."""

from __future__ import annotations

import pytest

from mlplatform.values.charts import Render
from tests.support.chart_fixtures import HELM_PARAMS, RENDER_CASES, environment_case

CHART = "dashboard"
FLAGS = {  # flag -> (component, port) of contracts §1
    "--pipelines-url": ("pipeline-controller", 8888),
    "--tuning-url": ("tuning-service", 8585),
    "--registry-url": ("model-registry", 5000),
    "--prometheus-url": ("prometheus", 9090),
    "--model-server-url": ("model-server", 8080),
}
helms = pytest.mark.parametrize("helm", HELM_PARAMS)


def dashboard(objects: list[dict], kind: str = "Deployment") -> dict:
    [found] = [obj for obj in objects if obj["kind"] == kind and obj["metadata"]["labels"]["app.kubernetes.io/name"] == CHART]
    return found


def urls(objects: list[dict]) -> dict[str, str]:
    """flag -> URL of the dashboard's command, after the fixed part."""
    argv = dashboard(objects)["spec"]["template"]["spec"]["containers"][0]["command"]
    assert argv[:7] == ["mlp", "serve", "dashboard", "--host", "0.0.0.0", "--port", "8080"]
    rest = argv[7:]
    assert len(rest) % 2 == 0 and all(flag in FLAGS for flag in rest[::2]), rest
    return dict(zip(rest[::2], rest[1::2], strict=True))


@helms
def test_the_dashboard_calls_every_component_of_the_release_at_its_service(chart_suite, helm):
    objects = chart_suite.objects(Render("mlplatform"), helm)
    assert urls(objects) == {flag: f"http://mlp-{component}:{port}" for flag, (component, port) in FLAGS.items()}
    services = {obj["metadata"]["name"]: {port["port"] for port in obj["spec"]["ports"]} for obj in objects if obj["kind"] == "Service"}
    for flag, (component, port) in FLAGS.items():
        assert port in services[f"mlp-{component}"], flag


@helms
def test_the_pod_serves_8080_with_probes_no_token_and_no_state(chart_suite, helm):
    objects = chart_suite.objects(Render(CHART), helm)
    pod = dashboard(objects)["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False
    assert dashboard(objects, "ServiceAccount")["automountServiceAccountToken"] is False
    [container] = pod["containers"]
    assert container["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
    assert (container["livenessProbe"]["httpGet"], container["readinessProbe"]["httpGet"]) == (
        {"path": "/healthz", "port": "http"}, {"path": "/readyz", "port": "http"})
    assert all("emptyDir" in volume for volume in pod["volumes"])
    annotations = dashboard(objects)["spec"]["template"]["metadata"]["annotations"]
    assert (annotations["prometheus.io/port"], annotations["prometheus.io/path"]) == ("8080", "/metrics")
    assert not [obj for obj in objects if obj["kind"] in ("PersistentVolumeClaim", "Secret", "Role", "ClusterRole")]
    assert dashboard(objects, "Service")["spec"]["ports"] == [{"name": "http", "port": 8080, "targetPort": "http", "protocol": "TCP"}]


def test_a_backend_that_is_off_is_not_passed_and_a_url_replaces_the_service(chart_suite):
    objects = chart_suite.objects(Render(CHART, set_values=("backends.prometheus.enabled=false",
                                                            "backends.registry.url=https://mlflow.example.com")))
    found = urls(objects)
    assert "--prometheus-url" not in found
    assert found["--registry-url"] == "https://mlflow.example.com"
    assert found["--pipelines-url"] == "http://mlp-pipeline-controller:8888"


@helms
@pytest.mark.parametrize("case", [case for case in RENDER_CASES if case.id.startswith(("mlplatform/", "dashboard/"))],
                         ids=lambda case: case.id)
def test_egress_goes_only_to_dns_and_the_backends_pods_on_the_ports_they_serve(chart_suite, case, helm):
    objects = chart_suite.objects(case.render, helm)
    policies = [obj for obj in objects if obj["kind"] == "NetworkPolicy" and obj["metadata"]["name"].endswith("-dashboard")]
    if not policies:
        return
    [policy] = policies
    spec = policy["spec"]
    assert spec["policyTypes"] == ["Ingress", "Egress"]
    assert spec["ingress"][0]["ports"] == [{"port": 8080, "protocol": "TCP"}]
    dns, *rules = spec["egress"]
    assert dns == {"ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]}
    found = urls(objects)
    in_release = {flag: url for flag, url in found.items() if url.startswith(f"http://{case.render.release}-")}
    targets = [rule for rule in rules if "to" in rule]
    assert len(targets) == len(in_release), rules
    pods = [(workload["spec"]["template"]["metadata"]["labels"],
             {port["containerPort"] for container in workload["spec"]["template"]["spec"]["containers"]
              for port in container.get("ports", [])})
            for workload in objects if workload["kind"] in ("Deployment", "StatefulSet")]
    for rule in targets:
        [peer] = rule["to"]
        [port] = rule["ports"]
        selected = [ports for labels, ports in pods if peer["podSelector"]["matchLabels"].items() <= labels.items()]
        if case.id.startswith("mlplatform/"):   # alone, the backends belong to other releases' charts
            assert selected and all(port["port"] in ports for ports in selected), rule
    # Backends outside the release: their port, anywhere; nothing else is open.
    assert len(rules) - len(targets) == len(found) - len(in_release), rules


def test_the_ingress_is_off_by_default_and_routes_to_the_service(chart_suite):
    assert not [obj for obj in chart_suite.objects(Render(CHART)) if obj["kind"] == "Ingress"]
    objects = chart_suite.objects(Render(CHART, set_values=("ingress.enabled=true", "ingress.host=ml.example.com",
                                                            "ingress.className=nginx")))
    ingress = dashboard(objects, "Ingress")
    assert ingress["spec"]["ingressClassName"] == "nginx"
    [rule] = ingress["spec"]["rules"]
    assert rule["host"] == "ml.example.com"
    [path] = rule["http"]["paths"]
    assert path["backend"]["service"] == {"name": "mlp-dashboard", "port": {"name": "http"}}


@helms
def test_prod_runs_two_dashboards_behind_the_gateway_with_a_budget(chart_suite, helm):
    objects = chart_suite.objects(environment_case("prod").render, helm)
    assert dashboard(objects, "HorizontalPodAutoscaler")["spec"]["minReplicas"] == 2
    assert dashboard(objects, "PodDisruptionBudget")["spec"]["maxUnavailable"] == 1
    peers = dashboard(objects, "NetworkPolicy")["spec"]["ingress"][0]["from"]
    assert {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "gateway-system"}}} in peers


@pytest.mark.parametrize("component, backend", [("prometheus", "prometheus"), ("modelRegistry", "registry"),
                                                ("pipelineController", "pipelines")])
def test_the_umbrella_refuses_a_backend_whose_component_is_off(chart_suite, component, backend):
    refusal = chart_suite.refusal(Render("mlplatform", set_values=(f"{component}.enabled=false",)))
    assert f"dashboard.backends.{backend}.enabled: must be false when {component}.enabled is false" in refusal
    objects = chart_suite.objects(Render("mlplatform", set_values=(f"{component}.enabled=false",
                                                                   f"dashboard.backends.{backend}.enabled=false")))
    assert f"--{backend}-url" not in urls(objects)


def test_the_dashboard_can_be_left_out(chart_suite):
    objects = chart_suite.objects(Render("mlplatform", set_values=("dashboard.enabled=false", "prometheus.enabled=false")))
    assert not [obj for obj in objects if obj["metadata"]["labels"].get("app.kubernetes.io/name") == CHART]
