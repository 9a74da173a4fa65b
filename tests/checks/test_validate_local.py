"""`mlp validate --local` and `mlp hook validate` against local mode's real processes, and the faults
they must name: an unresolvable model, a killed component."""

from __future__ import annotations

import json
import uuid

import pytest
import requests
import yaml

from mlplatform.retry import wait_until
from tests.hooks.conftest import run_hook
from tests.support.local_fixtures import mlp


def validate(state_dir, *args: str):
    result = mlp("validate", "--local", "--state-dir", str(state_dir), "--output", "json", *args, timeout=300)
    assert result.stdout.startswith("{"), result.stderr
    return result.returncode, json.loads(result.stdout)


def failures(report: dict) -> set[tuple[str, str]]:
    return {(r["check"], r["component"]) for r in report["results"] if r["status"] == "failed"}


@pytest.fixture
def served_registered_model(local_platform, iris_model_uri, tmp_path):
    """A model registered by the register hook (alias champion) and served by its models:/ URI."""
    name = f"iris-{uuid.uuid4().hex[:6]}"
    values = tmp_path / "values.yaml"
    values.write_text(yaml.safe_dump({"hooks": {"register": {"buckets": ["models"], "models": [
        {"name": name, "tags": {"team": "risk"},
         "versions": [{"source": iris_model_uri, "version": "1", "aliases": ["champion"]}]}]}}}))
    registered = run_hook("register", "--local", "--state-dir", str(local_platform.state_dir), "--values", str(values))
    assert registered.returncode == 0, registered.stdout + registered.stderr
    local_platform.apply({"modelServer": {"models": [{"name": name, "uri": f"models:/{name}@champion"}]}})
    yield name, values
    local_platform.reset()


def test_a_healthy_platform_passes_every_check(local_platform, served_registered_model):
    name, values = served_registered_model
    code, report = validate(local_platform.state_dir, "--values", str(values))

    assert code == 0, failures(report)
    checks = {r["check"] for r in report["results"] if r["status"] == "passed"}
    assert {"workloads", "health", "s3", "registry", "prometheus-targets"} <= checks
    details = [r["detail"] for r in report["results"]]
    assert f"{name}@champion -> version 1 (s3://models/iris/1)" in details
    assert f"models:/{name}@champion -> version 1 (s3://models/iris/1)" in details
    inference = [r for r in report["results"] if r["check"] == "inference"]
    assert [r["component"] for r in inference] == ["model-server-stable"] and name in inference[0]["detail"]
    # An inference needs the inputs the model's metadata declares; a model-settings.json without them
    # leaves a readiness check, and the result says so instead of passing silently.
    assert inference[0]["status"] == "passed" or "declares no inputs" in inference[0]["detail"]


def test_the_table_names_every_check_and_ends_with_the_verdict(local_platform):
    result = run_hook("validate", "--local", "--state-dir", str(local_platform.state_dir))
    assert result.returncode == 0, result.stdout
    lines = result.stdout.splitlines()
    assert lines[0] == "validate: local mode"
    assert lines[-2].startswith("PASSED")
    assert json.loads(lines[-1].removeprefix("mlplatform-report: "))["ok"] is True


def test_an_unresolvable_model_fails_and_names_it(local_platform, tmp_path):
    values = tmp_path / "values.yaml"
    values.write_text(yaml.safe_dump({"modelServer": {"models": [{"name": "ghost", "uri": "models:/ghost@champion"}]}}))
    code, report = validate(local_platform.state_dir, "--values", str(values), "--check", "registry")
    assert code == 1
    failed = [r for r in report["results"] if r["status"] == "failed"]
    assert [r["component"] for r in failed] == ["model-registry"]
    assert failed[0]["detail"].startswith("models:/ghost@champion does not resolve")


@pytest.mark.slow
def test_a_smoke_experiment_runs_two_trials(local_platform):
    code, report = validate(local_platform.state_dir, "--smoke", "experiment", "--check", "smoke-experiment")
    assert code == 0, report
    assert "2 trials succeeded" in report["results"][0]["detail"]


@pytest.mark.slow
def test_a_smoke_pipeline_runs(local_platform):
    code, report = validate(local_platform.state_dir, "--smoke", "pipeline", "--check", "smoke-pipeline")
    assert code == 0, report
    assert "succeeded" in report["results"][0]["detail"]


@pytest.mark.slow
def test_a_killed_component_fails_validate_and_is_named(local_platform_factory):
    platform = local_platform_factory(components=("tuning-service", "prometheus"))
    code, report = validate(platform.state_dir)
    assert code == 0, failures(report)

    platform.stop("tuning-service")
    # Prometheus has scraped the dead target (a wait on that, not a fixed three scrape intervals: a busy
    # machine may scrape late).
    wait_until(lambda: any(target["labels"].get("component") == "tuning-service" and target["health"] == "down"
                           for target in requests.get(platform.url("prometheus") + "/api/v1/targets",
                                                      timeout=5).json()["data"]["activeTargets"]),
               what="Prometheus sees the tuning service down", timeout=60)
    code, report = validate(platform.state_dir)

    assert code == 1
    assert {("workloads", "tuning-service"), ("health", "tuning-service"),
            ("prometheus-targets", "tuning-service")} <= failures(report)
    assert all(component == "tuning-service" for _, component in failures(report))
    health = next(r for r in report["results"] if r["check"] == "health" and r["status"] == "failed")
    assert "connection refused" in health["detail"]


def test_validate_says_what_to_validate():
    result = mlp("validate")
    assert result.returncode == 2 and "--local" in result.stderr and "--release" in result.stderr
