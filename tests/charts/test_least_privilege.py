"""Least privilege in the rendered charts (issue 14): wherever NetworkPolicy is on, the hook Jobs' pods are
isolated too (they serve nothing: no ingress at all); where it is off (dev), no hook policy is rendered."""

import pytest

from tests.support.chart_fixtures import HELM_PARAMS, environment_case

helms = pytest.mark.parametrize("helm", HELM_PARAMS)


def selects(selector: dict, labels: dict) -> bool:
    """matchLabels and the Exists / In expressions the charts use."""
    for expression in selector.get("matchExpressions", []):
        value = labels.get(expression["key"])
        if value is None or (expression["operator"] == "In" and value not in expression["values"]):
            return False
    return (selector.get("matchLabels") or {}).items() <= labels.items()


def hook_pods(objects: list[dict]) -> list[tuple[str, dict]]:
    return [(obj["metadata"]["name"], obj["spec"]["template"]["metadata"]["labels"]) for obj in objects
            if obj["kind"] == "Job" and "mlplatform.io/hook" in obj["spec"]["template"]["metadata"]["labels"]]


def network_policies(objects: list[dict]) -> list[dict]:
    return [obj for obj in objects if obj["kind"] == "NetworkPolicy"]


@helms
@pytest.mark.parametrize("environment", ["staging", "prod"])
def test_hook_jobs_take_no_ingress_where_network_policy_is_on(chart_suite, helm, environment):
    objects = chart_suite.objects(environment_case(environment).render, helm)
    pods = hook_pods(objects)
    assert pods, f"{environment} renders no hook Job"
    for name, labels in pods:
        isolating = [policy for policy in network_policies(objects) if selects(policy["spec"]["podSelector"], labels)]
        assert isolating, f"hook Job {name} has no NetworkPolicy in {environment}"
        assert all(policy["spec"]["policyTypes"] == ["Ingress"] and policy["spec"]["ingress"] == []
                   for policy in isolating if "mlplatform.io/hook" in policy["metadata"]["labels"])
        hook_policy = [policy for policy in isolating if "mlplatform.io/hook" in policy["metadata"]["labels"]]
        assert hook_policy and hook_policy[0]["metadata"]["annotations"]["helm.sh/hook-weight"] == "-10"


@helms
def test_dev_without_network_policies_renders_none_for_hooks(chart_suite, helm):
    objects = chart_suite.objects(environment_case("dev").render, helm)
    assert hook_pods(objects) and not network_policies(objects)
