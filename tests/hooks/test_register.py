"""`mlp hook register` (hooks/register.py) against a real MLflow registry and moto: idempotence and faults."""

from __future__ import annotations

import threading
import time
import uuid

import pytest

from mlplatform.net import free_port
from mlplatform.registries import open_registry
from tests.hooks.conftest import run_hook, write_state, write_values
from tests.registries.servers import mlflow_server


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def upload_model(s3, bucket: str, prefix: str) -> str:
    if bucket not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key=f"{prefix}/model.joblib", Body=b"model bytes")
    return f"s3://{bucket}/{prefix}"


def test_register_creates_buckets_and_models_then_changes_nothing(tmp_path, state_dir, s3, local_platform):
    model, bucket = unique("fraud"), unique("models")
    source_1 = upload_model(s3, "artifacts", f"{model}/1")
    source_2 = upload_model(s3, "artifacts", f"{model}/2")
    values = write_values(tmp_path / "values.yaml", {
        "buckets": [bucket, "artifacts"],
        "models": [{"name": model, "description": "fraud detector", "tags": {"team": "risk"}, "versions": [
            {"source": source_1, "version": "1", "aliases": ["champion"], "tags": {"auc": "0.93"}},
            {"source": source_2, "version": "2", "aliases": ["challenger"]},
        ]}],
    })
    args = ["--local", "--state-dir", str(state_dir), "--values", str(values), "--deadline", "60"]

    first = run_hook("register", *args)
    assert first.returncode == 0, first.stdout + first.stderr
    assert f"bucket {bucket}: created" in first.stdout
    assert "bucket artifacts: exists" in first.stdout  # a bucket that already exists is fine

    registry = open_registry("mlflow", local_platform.url("model-registry"))
    versions = registry.list_versions(model)
    assert [(v.label, v.source) for v in versions] == [("1", source_1), ("2", source_2)]
    assert registry.resolve(f"{model}@champion").tags["auc"] == "0.93"
    assert registry.resolve(f"{model}@challenger").label == "2"
    assert bucket in [b["Name"] for b in s3.list_buckets()["Buckets"]]

    second = run_hook("register", *args)
    assert second.returncode == 0, second.stdout + second.stderr
    assert f"bucket {bucket}: exists" in second.stdout
    assert [v.version for v in registry.list_versions(model)] == [v.version for v in versions]


def test_a_missing_model_source_names_the_model_and_the_source(tmp_path, state_dir, s3):
    model = unique("fraud")
    present = upload_model(s3, "artifacts", f"{model}/1")
    missing = f"s3://artifacts/{model}/3"
    values = write_values(tmp_path / "values.yaml", {"buckets": [], "models": [{"name": model, "versions": [
        {"source": missing, "version": "3"}, {"source": present, "version": "1"}]}]})

    result = run_hook("register", "--local", "--state-dir", str(state_dir), "--values", str(values))

    assert result.returncode == 2, result.stdout + result.stderr
    assert f"model {model} v3: source {missing} not found" in result.stderr
    assert f"ok   model {model} v1" in result.stdout  # the other version is still registered


def test_a_bucket_that_already_exists_is_fine_and_left_untouched(tmp_path, state_dir, s3):
    """A bucket made before the release (by a person, another tool, an earlier install) keeps its objects."""
    existing, new = unique("data"), unique("models")
    s3.create_bucket(Bucket=existing)
    s3.put_object(Bucket=existing, Key="datasets/fraud.csv", Body=b"amount,label\n12.5,0\n",
                  Metadata={"owner": "risk-team"})
    s3.put_object(Bucket=existing, Key="README", Body=b"kept by hand")
    before = {o["Key"]: (o["ETag"], o["Size"], o["LastModified"])
              for o in s3.list_objects_v2(Bucket=existing)["Contents"]}
    values = write_values(tmp_path / "values.yaml", {"buckets": [existing, new], "models": [], "pipelines": []})

    result = run_hook("register", "--local", "--state-dir", str(state_dir), "--values", str(values))

    assert result.returncode == 0, result.stdout + result.stderr
    assert f"bucket {existing}: exists" in result.stdout and f"bucket {new}: created" in result.stdout
    after = {o["Key"]: (o["ETag"], o["Size"], o["LastModified"])
             for o in s3.list_objects_v2(Bucket=existing)["Contents"]}
    assert after == before
    kept = s3.get_object(Bucket=existing, Key="datasets/fraud.csv")
    assert kept["Body"].read() == b"amount,label\n12.5,0\n" and kept["Metadata"] == {"owner": "risk-team"}
    assert s3.list_objects_v2(Bucket=new).get("KeyCount") == 0


@pytest.mark.slow
def test_registry_down_then_up_is_retried_until_it_answers(tmp_path, s3, local_platform):
    registry = mlflow_server(tmp_path / "late-mlflow")
    state = write_state(tmp_path / "state", {"model-registry": registry.url, "minio": local_platform.url("minio")})
    model = unique("fraud")
    values = write_values(tmp_path / "values.yaml", {"buckets": [], "models": [{"name": model, "versions": [
        {"source": upload_model(s3, "artifacts", f"{model}/1"), "version": "1", "aliases": ["champion"]}]}]})
    starter = threading.Timer(2.0, registry.start, kwargs={"wait": False})
    starter.start()
    try:
        result = run_hook("register", "--local", "--state-dir", str(state), "--values", str(values),
                          "--deadline", "90")
        assert result.returncode == 0, result.stdout + result.stderr
        assert "retrying" in result.stdout
        assert open_registry("mlflow", registry.url).resolve(f"{model}@champion").label == "1"
    finally:
        starter.join()
        registry.stop()


def test_registry_down_for_good_fails_clearly_within_the_deadline(tmp_path, s3, local_platform):
    nowhere = f"http://127.0.0.1:{free_port()}"
    state = write_state(tmp_path / "state", {"model-registry": nowhere, "minio": local_platform.url("minio")})
    model = unique("fraud")
    values = write_values(tmp_path / "values.yaml", {"buckets": [], "models": [{"name": model, "versions": [
        {"source": upload_model(s3, "artifacts", f"{model}/1"), "version": "1"}]}]})

    started = time.monotonic()
    result = run_hook("register", "--local", "--state-dir", str(state), "--values", str(values), "--deadline", "4")
    elapsed = time.monotonic() - started

    assert result.returncode == 3, result.stdout + result.stderr
    assert f"model {model}: still failing after" in result.stderr
    assert f"mlflow registry at {nowhere} did not answer" in result.stderr
    assert elapsed < 4 + 15  # the deadline, plus interpreter start-up and one last attempt


def test_without_config_it_says_how_to_give_one(tmp_path):
    result = run_hook("register")
    assert result.returncode == 2
    assert "MLP_HOOK_CONFIG" in result.stderr


@pytest.mark.parametrize("backend", ["kubeflow-model-registry"])
def test_register_through_another_registry_plugin(tmp_path, state_dir, s3, backend):
    pytest.importorskip("model_registry")
    from tests.registries.kubeflow_api import KubeflowRegistryServer

    server = KubeflowRegistryServer().start()
    try:
        model = unique("fraud")
        values = write_values(tmp_path / "values.yaml", {
            "registry": backend, "registryUrl": server.url, "buckets": [],
            "models": [{"name": model, "versions": [
                {"source": upload_model(s3, "artifacts", f"{model}/1"), "version": "1", "aliases": ["champion"]}]}]})
        args = ["--local", "--state-dir", str(state_dir), "--values", str(values)]
        assert run_hook("register", *args).returncode == 0
        result = run_hook("register", *args)
        assert result.returncode == 0, result.stdout + result.stderr
        registry = open_registry(backend, server.url)
        assert [v.version for v in registry.list_versions(model)] == ["1"]
        assert registry.resolve(f"{model}@champion").version == "1"
    finally:
        server.stop()


def test_register_against_local_mode_uploads_pipelines_and_models_once(local_platform, iris_model_uri, tmp_path):
    """The whole hook against local mode's real registry, S3 and pipeline controller, run twice."""
    from kfp import compiler

    from mlplatform.checks.smoke import smoke_pipeline
    from mlplatform.hooks.pipelines import kfp_client

    package = tmp_path / "smoke.yaml"
    compiler.Compiler().compile(smoke_pipeline, str(package))
    local_platform.s3().upload_file(str(package), "mlpipeline", "pipelines/smoke.yaml")
    model, pipeline = unique("iris"), unique("smoke")
    values = write_values(tmp_path / "values.yaml", {
        "buckets": ["mlpipeline", "mlflow", "models"],
        "models": [{"name": model, "versions": [{"source": iris_model_uri, "version": "1", "aliases": ["champion"]}]}],
        "pipelines": [{"name": pipeline, "version": "v1", "source": "s3://mlpipeline/pipelines/smoke.yaml"}],
    })
    args = ["--local", "--state-dir", str(local_platform.state_dir), "--values", str(values)]

    first = run_hook("register", *args)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "bucket mlpipeline: exists" in first.stdout  # local mode created it: already there is fine
    assert f"pipeline {pipeline} v1: version v1 uploaded" in first.stdout
    second = run_hook("register", *args)
    assert second.returncode == 0, second.stdout + second.stderr
    assert f"pipeline {pipeline} v1: version v1 exists" in second.stdout

    client = kfp_client(local_platform.url("pipeline-controller"))
    versions = client.list_pipeline_versions(client.get_pipeline_id(pipeline), page_size=100).pipeline_versions
    assert [v.display_name for v in versions].count("v1") == 1
    registry = open_registry("mlflow", local_platform.url("model-registry"))
    assert [v.label for v in registry.list_versions(model)] == ["1"]
