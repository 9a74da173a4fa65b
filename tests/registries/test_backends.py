"""Both registration backends, through their real clients: idempotent versions, aliases, tags, resolve, outcomes."""

import uuid

import pytest

from mlplatform.errors import ConfigError
from mlplatform.registries import VersionNotFound, open_registry, split_reference
from mlplatform.registries.base import OUTCOME_TAG


@pytest.fixture(params=["mlflow", "kubeflow-model-registry"])
def registry(request):
    url = request.getfixturevalue(
        "mlflow_registry_url" if request.param == "mlflow" else "kubeflow_registry_url")
    if request.param == "kubeflow-model-registry":
        pytest.importorskip("model_registry", reason="install the kubeflow-registry extra")
    return open_registry(request.param, url)


@pytest.fixture
def model_name():
    return f"fraud-{uuid.uuid4().hex[:8]}"


def test_registering_twice_creates_no_duplicate(registry, model_name):
    registry.ensure_model(model_name, description="fraud detector", tags={"team": "risk"})
    first = registry.ensure_version(model_name, source="s3://models/fraud/1", label="1", tags={"stage": "ci"})
    registry.ensure_model(model_name, description="fraud detector", tags={"team": "risk"})
    again = registry.ensure_version(model_name, source="s3://models/fraud/1", label="1", tags={"stage": "ci"})

    assert again.version == first.version
    assert [v.source for v in registry.list_versions(model_name)] == ["s3://models/fraud/1"]
    assert again.tags["stage"] == "ci" and again.label == "1"


def test_versions_without_label_are_found_by_source(registry, model_name):
    registry.ensure_model(model_name)
    one = registry.ensure_version(model_name, source="s3://models/a")
    two = registry.ensure_version(model_name, source="s3://models/b")
    assert one.version != two.version
    assert registry.ensure_version(model_name, source="s3://models/a").version == one.version
    assert len(registry.list_versions(model_name)) == 2


def test_a_label_with_another_source_is_refused(registry, model_name):
    registry.ensure_model(model_name)
    registry.ensure_version(model_name, source="s3://models/fraud/1", label="1")
    with pytest.raises(ConfigError, match=rf"model {model_name} v1: already registered .* not s3://models/other"):
        registry.ensure_version(model_name, source="s3://models/other", label="1")


def test_aliases_move_and_resolve(registry, model_name):
    registry.ensure_model(model_name)
    v1 = registry.ensure_version(model_name, source="s3://models/fraud/1", label="1")
    v2 = registry.ensure_version(model_name, source="s3://models/fraud/2", label="2")
    registry.set_alias(model_name, "champion", v1.version)
    assert registry.resolve(f"models:/{model_name}@champion").version == v1.version
    registry.set_alias(model_name, "champion", v2.version)
    registry.set_alias(model_name, "champion", v2.version)  # idempotent

    resolved = registry.resolve(f"{model_name}@champion")
    assert resolved.version == v2.version and resolved.source == "s3://models/fraud/2"
    assert "champion" in resolved.aliases
    assert "champion" not in registry.get_version(model_name, v1.version).aliases
    assert registry.resolve(f"models:/{model_name}/{v1.version}").source == "s3://models/fraud/1"


def test_outcome_is_recorded_on_the_version(registry, model_name):
    registry.ensure_model(model_name)
    version = registry.ensure_version(model_name, source="s3://models/fraud/3", label="3")
    registry.record_outcome(model_name, version.version, "aborted", "canary p99 0.9s > 0.5s")
    assert registry.get_version(model_name, version.version).tags[OUTCOME_TAG] == "aborted"


def test_unknown_names_say_what_is_missing(registry, model_name):
    with pytest.raises(VersionNotFound, match=model_name):
        registry.resolve(f"{model_name}/1")
    registry.ensure_model(model_name)
    with pytest.raises(VersionNotFound, match="alias @nope"):
        registry.resolve(f"{model_name}@nope")


def test_references_are_parsed_or_refused():
    assert split_reference("models:/fraud/3") == ("fraud", "3", None)
    assert split_reference("fraud@champion") == ("fraud", None, "champion")
    with pytest.raises(VersionNotFound, match="not a model reference"):
        split_reference("models:/fraud")
