"""Every rendered object validates strictly (unknown fields are errors) against Kubernetes 1.30 to 1.35.

All renders of the matrix (every case, helm 3 and helm 4) are pooled and each distinct object is
validated once per version.
"""

import json

import pytest

from tests.support.chart_fixtures import HELM_MAJORS, KUBERNETES_VERSIONS, RENDER_CASES, validation_errors


@pytest.fixture(scope="module")
def distinct_objects(chart_suite) -> dict[str, tuple[dict, set[str]]]:
    """JSON of each distinct object -> (the object, the cases that render it)."""
    pool: dict[str, tuple[dict, set[str]]] = {}
    for case in RENDER_CASES:
        for helm in HELM_MAJORS:
            for obj in chart_suite.objects(case.render, helm):
                key = json.dumps(obj, sort_keys=True)
                pool.setdefault(key, (obj, set()))[1].add(f"{case.id}/helm{helm}")
    return pool


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_object_validates_strictly(distinct_objects, version):
    failures = [f"{error} (rendered by {', '.join(sorted(cases)[:3])})"
                for obj, cases in distinct_objects.values() for error in validation_errors(obj, version)]
    assert not failures, f"{len(failures)} invalid objects for Kubernetes {version}:\n" + "\n".join(failures)


def test_the_validation_catches_an_unknown_field_and_a_wrong_type():
    deployment = {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x"},
        "spec": {"selector": {"matchLabels": {"a": "b"}},
                 "template": {"metadata": {"labels": {"a": "b"}},
                              "spec": {"containers": [{"name": "c", "image": "i", "imagePullPolicy": "IfNotPresent"}]}}},
    }
    assert validation_errors(deployment, "1.30") == []
    unknown = json.loads(json.dumps(deployment))
    unknown["spec"]["template"]["spec"]["containers"][0]["imagePullPolcy"] = "Always"
    assert validation_errors(unknown, "1.30")
    wrong_type = json.loads(json.dumps(deployment))
    wrong_type["spec"]["replicas"] = "two"
    assert validation_errors(wrong_type, "1.35")
    route = {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "metadata": {"name": "r"},
             "spec": {"rules": [{"backendRefs": [{"name": "s", "port": 8080, "weight": -1}]}]}}
    assert validation_errors(route, "1.33"), "a negative backend weight must be refused"
    assert validation_errors({"apiVersion": "example.com/v1", "kind": "Unknown", "metadata": {"name": "u"}}, "1.33")
