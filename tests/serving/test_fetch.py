"""`mlp model fetch`, run as the model-server chart's init container runs it, against real MLflow and S3."""

from __future__ import annotations

import json
import os
import uuid

import pytest

from mlplatform.net import free_port
from mlplatform.registries import open_registry
from tests.support.local_fixtures import mlp, save_iris_model

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def registered(local_platform, tmp_path_factory):
    """A model with version 1 aliased champion, its artifacts in the platform's S3."""
    name = f"fraud-{uuid.uuid4().hex[:6]}"
    source = f"s3://models/{name}/1"
    local_platform.upload_directory(save_iris_model(tmp_path_factory.mktemp("model")), source)
    registry = open_registry("mlflow", local_platform.url("model-registry"))
    registry.ensure_model(name)
    version = registry.ensure_version(name, source=source, label="1")
    registry.set_alias(name, "champion", version.version)
    return {"name": name, "version": version.version, "source": source}


@pytest.fixture
def init_container_env(local_platform):
    """The init container's environment (charts/model-server deployment.yaml)."""
    s3 = local_platform.endpoints.extra["s3"]
    return {**os.environ, "MLFLOW_TRACKING_URI": local_platform.url("model-registry"),
            "MLP_S3_ENDPOINT": local_platform.url("minio"), "AWS_ACCESS_KEY_ID": s3["access_key_id"],
            "AWS_SECRET_ACCESS_KEY": s3["secret_access_key"]}


def fetch(uri: str, dest, env, *extra: str):
    return mlp("model", "fetch", uri, "--dest", str(dest), *extra, env=env, timeout=120)


def assert_servable(dest, name: str, implementation: str = "mlserver_sklearn.SKLearnModel") -> None:
    settings = json.loads((dest / "model-settings.json").read_text())
    assert settings == {"name": name, "implementation": implementation, "parameters": {"uri": "./"}}
    assert (dest / "model.joblib").stat().st_size > 0


@pytest.mark.parametrize("reference", ["version", "alias"])
def test_fetch_a_registered_model_by_version_or_alias(registered, init_container_env, tmp_path, reference):
    suffix = f"/{registered['version']}" if reference == "version" else "@champion"
    dest = tmp_path / "models" / "fraud"
    result = fetch(f"models:/{registered['name']}{suffix}", dest, init_container_env)
    assert result.returncode == 0, result.stderr
    assert f"version {registered['version']}, {registered['source']}" in result.stdout
    assert_servable(dest, "fraud")


def test_fetch_an_s3_prefix_replaces_the_directory(registered, init_container_env, tmp_path):
    dest = tmp_path / "iris"
    dest.mkdir()
    (dest / "stale.txt").write_text("from an earlier fetch")
    result = fetch(registered["source"], dest, init_container_env, "--name", "scorer",
                   "--implementation", "custom.Runtime")
    assert result.returncode == 0, result.stderr
    assert_servable(dest, "scorer", "custom.Runtime")
    assert sorted(path.name for path in dest.iterdir()) == ["model-settings.json", "model.joblib"]
    assert [path.name for path in tmp_path.iterdir()] == ["iris"]   # no staging directory left


@pytest.mark.parametrize("uri, exit_code, message", [
    ("models:/{name}/99", 2, "models:/{name}/99: model {name} version 99: not found"),
    ("models:/{name}@retired", 2, "models:/{name}@retired: model {name} alias @retired: not found"),
    ("models:/no-such-model-{name}/1", 2, "not found"),
    ("s3://models/{name}/2", 2, "s3://models/{name}/2: no objects there"),
    ("s3://no-such-bucket/{name}", 2, "s3://no-such-bucket/{name}: bucket no-such-bucket does not exist"),
    ("gs://models/{name}", 2, "expected models:/<name>/<version>, models:/<name>@<alias> or s3://bucket/prefix"),
])
def test_a_missing_source_is_one_clear_line(registered, init_container_env, tmp_path, uri, exit_code, message):
    uri, message = uri.format(name=registered["name"]), message.format(name=registered["name"])
    dest = tmp_path / "model"
    result = fetch(uri, dest, init_container_env)
    assert result.returncode == exit_code, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], result.stderr
    assert not dest.exists()


def test_an_unreachable_registry_or_s3_is_a_dependency_error(registered, init_container_env, tmp_path):
    dead = f"http://127.0.0.1:{free_port()}"
    registry_down = fetch(f"models:/{registered['name']}/1", tmp_path / "a", {**init_container_env,
                                                                          "MLFLOW_TRACKING_URI": dead})
    assert registry_down.returncode == 3 and dead in registry_down.stderr, registry_down.stderr
    s3_down = fetch(registered["source"], tmp_path / "b", {**init_container_env, "MLP_S3_ENDPOINT": dead})
    assert s3_down.returncode == 3 and "did not answer" in s3_down.stderr, s3_down.stderr
