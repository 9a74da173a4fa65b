"""The tuning-service chart's controller (values, RBAC, the --watch-namespaces flag) and its CRDs:
structural, valid for every supported Kubernetes, and knowing every field of Katib's own examples."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from mlplatform.values.charts import Render
from tests.support.chart_fixtures import KUBERNETES_VERSIONS, validation_errors
from tests.tuning.helpers import BRANIN, katib_yaml, load
from tests.tuning.test_bad_input import GOOD

CRDS = Path(__file__).resolve().parents[2] / "charts" / "tuning-service" / "crds"


def crds() -> dict[str, dict]:
    return {path.name: yaml.safe_load(path.read_text()) for path in sorted(CRDS.glob("*.yaml"))}


def command(objects: list[dict]) -> list[str]:
    deployment = next(obj for obj in objects if obj["kind"] == "Deployment")
    return deployment["spec"]["template"]["spec"]["containers"][0]["command"]


def rbac(objects: list[dict]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for obj in objects:
        if obj["kind"] in ("Role", "ClusterRole") and obj["metadata"]["name"].endswith("-controller"):
            found.setdefault(obj["kind"], []).append(obj["metadata"].get("namespace", ""))
    return found


@pytest.mark.parametrize(
    "values, flag, roles",
    [
        ((), "mlplatform", {"Role": ["mlplatform"]}),
        (("controller.namespaces={team-a,team-b}",), "team-a,team-b", {"Role": ["team-a", "team-b"]}),
        (("controller.allNamespaces=true",), "*", {"ClusterRole": [""]}),
        (("controller.enabled=false",), None, {}),
    ],
)
def test_the_controller_watches_the_namespaces_its_values_name(chart_suite, values, flag, roles):
    objects = chart_suite.objects(Render("tuning-service", set_values=values))
    argv = command(objects)
    if flag is None:
        assert "--watch-namespaces" not in argv
    else:
        assert argv[argv.index("--watch-namespaces") + 1] == flag
    assert rbac(objects) == roles


def test_the_all_namespaces_render_validates_strictly(chart_suite):
    """Not in the ci/ matrix: the policy suite allows no ClusterRole there, and this one is opt-in."""
    objects = chart_suite.objects(Render("tuning-service", set_values=("controller.allNamespaces=true",)))
    for version in (KUBERNETES_VERSIONS[0], KUBERNETES_VERSIONS[-1]):
        assert [error for obj in objects for error in validation_errors(obj, version)] == []
    [role] = [obj for obj in objects if obj["kind"] == "ClusterRole"]
    assert {group for rule in role["rules"] for group in rule["apiGroups"]} == {"kubeflow.org"}


def test_the_schema_refuses_a_bad_namespace(chart_suite):
    refusal = chart_suite.refusal(Render("tuning-service", set_values=("controller.namespaces={Team_A}",)))
    assert "controller.namespaces" in refusal


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_crds_validate_strictly(version):
    for name, crd in crds().items():
        assert validation_errors(crd, version) == [], name


def _structural_problems(schema: dict, path: str) -> list[str]:
    """Kubernetes' structural rule, in short: every node has a type, or keeps unknown fields."""
    problems = []
    if "type" not in schema and not schema.get("x-kubernetes-preserve-unknown-fields"):
        problems.append(f"{path}: no type")
    for key, child in (schema.get("properties") or {}).items():
        problems += _structural_problems(child, f"{path}.{key}")
    if isinstance(schema.get("items"), dict):
        problems += _structural_problems(schema["items"], f"{path}[]")
    return problems


def test_crds_are_structural_with_a_status_subresource():
    assert set(crds()) == {f"{plural}.kubeflow.org.yaml" for plural in ("experiments", "trials", "suggestions")}
    for name, crd in crds().items():
        [version] = crd["spec"]["versions"]
        assert version["subresources"] == {"status": {}}, name
        assert _structural_problems(version["schema"]["openAPIV3Schema"], name) == []


def _pruned(value, schema: dict, path: str) -> list[str]:
    """The fields the API server would prune from `value` under `schema`."""
    if schema.get("x-kubernetes-preserve-unknown-fields"):
        return []
    if isinstance(value, dict) and "properties" in schema:
        return [
            found
            for key, child in value.items()
            for found in (
                _pruned(child, schema["properties"][key], f"{path}.{key}") if key in schema["properties"]
                else [f"{path}.{key}"]
            )
        ]
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [found for index, item in enumerate(value) for found in _pruned(item, schema["items"], f"{path}[{index}]")]
    return []


@pytest.mark.parametrize("example", [BRANIN, GOOD], ids=["branin", "random-mixed"])
def test_the_experiment_crd_knows_every_field_of_katibs_examples(example):
    schema = crds()["experiments.kubeflow.org.yaml"]["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    manifest = load(katib_yaml(example, name="x", algorithm="random", trials=3, settings=""))
    manifest["spec"]["resumePolicy"] = "LongRunning"
    manifest["spec"]["metricsCollectorSpec"] = {
        "collector": {"kind": "File"},
        "source": {"fileSystemPath": {"path": "/katib/mnist.json", "kind": "File", "format": "JSON"}},
    }
    assert _pruned(manifest, schema, "") == []
    manifest["spec"]["maxTrialCont"] = 3  # a typo is what the API server prunes (or refuses, strictly)
    assert _pruned(manifest, schema, "") == [".spec.maxTrialCont"]


def _crd_fields(schema: dict):
    """The CRD's spec schema in SPEC_FIELDS' shape: nested dicts, [item] for arrays, None for open values."""
    if schema.get("x-kubernetes-preserve-unknown-fields") or schema.get("type") not in ("object", "array"):
        return None
    if schema["type"] == "array":
        return [_crd_fields(schema["items"])] if schema["items"].get("type") == "object" else None
    if "properties" not in schema:
        return None
    return {key: _crd_fields(child) for key, child in schema["properties"].items()}


def test_the_service_refuses_exactly_the_fields_the_crd_does_not_know():
    from mlplatform.tuning.spec import SPEC_FIELDS

    schema = crds()["experiments.kubeflow.org.yaml"]["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    assert _crd_fields(schema["properties"]["spec"]) == SPEC_FIELDS
