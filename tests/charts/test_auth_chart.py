"""`auth.mode` of the pipeline-controller and tuning-service charts (issue 14): kubernetes mode passes
--auth-mode kubernetes and grants the service's ServiceAccount the TokenReview and SubjectAccessReview
creates, nothing more; none (the charts' default and dev's) renders neither; staging and prod run kubernetes
mode; other modes are refused."""

from __future__ import annotations

import pytest

from mlplatform.values.charts import Render
from tests.charts.test_policy import AUTH_REVIEW_CLUSTER_RULES
from tests.support.chart_fixtures import environment_case

CHARTS = ["pipeline-controller", "tuning-service"]


def service_objects(objects: list[dict], chart: str) -> tuple[list[str], list[dict]]:
    """The service container's command, and the auth ClusterRoles and ClusterRoleBindings."""
    deployment = next(obj for obj in objects if obj["kind"] == "Deployment" and obj["metadata"]["name"].endswith(chart))
    command = deployment["spec"]["template"]["spec"]["containers"][0]["command"]
    grants = [obj for obj in objects if obj["kind"] in ("ClusterRole", "ClusterRoleBinding")
              and obj["metadata"]["name"].endswith(f"{chart}-auth-reviews")]
    return command, grants


def assert_kubernetes_mode(objects: list[dict], chart: str) -> None:
    command, grants = service_objects(objects, chart)
    assert command[command.index("--auth-mode") + 1] == "kubernetes", command
    cluster_role = next(obj for obj in grants if obj["kind"] == "ClusterRole")
    binding = next(obj for obj in grants if obj["kind"] == "ClusterRoleBinding")
    assert cluster_role["rules"] == AUTH_REVIEW_CLUSTER_RULES
    assert binding["roleRef"]["name"] == cluster_role["metadata"]["name"]
    account = next(obj for obj in objects if obj["kind"] == "ServiceAccount" and obj["metadata"]["name"].endswith(chart))
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": account["metadata"]["name"],
                                    "namespace": "mlplatform"}]


def assert_open(objects: list[dict], chart: str) -> None:
    command, grants = service_objects(objects, chart)
    assert "--auth-mode" not in command and grants == []


@pytest.mark.parametrize("chart", CHARTS)
def test_auth_none_by_default(chart_suite, chart):
    assert_open(chart_suite.objects(Render(chart)), chart)


@pytest.mark.parametrize("chart", CHARTS)
def test_auth_kubernetes_mode(chart_suite, chart):
    assert_kubernetes_mode(chart_suite.objects(Render(chart, set_values=("auth.mode=kubernetes",))), chart)


@pytest.mark.parametrize("environment", ["staging", "prod"])
@pytest.mark.parametrize("chart", CHARTS)
def test_auth_kubernetes_in(chart_suite, chart, environment):
    assert_kubernetes_mode(chart_suite.objects(environment_case(environment).render), chart)


@pytest.mark.parametrize("chart", CHARTS)
def test_auth_none_in_dev(chart_suite, chart):
    assert_open(chart_suite.objects(environment_case("dev").render), chart)


@pytest.mark.parametrize("chart", CHARTS)
def test_auth_mode_token_is_refused(chart_suite, chart):
    error = chart_suite.refusal(Render(chart, set_values=("auth.mode=token",)))
    assert "auth" in error and "mode" in error and "kubernetes" in error, error
