"""`mlp hook canary-analysis --local`: exit codes, the report file and the registry tags, as a real process
against a real local platform (MLServers, nginx, Prometheus, MLflow, moto) with real traffic."""

from __future__ import annotations

import json

import pytest
import yaml

from mlplatform.endpoints import Endpoints
from mlplatform.registries import open_registry
from mlplatform.registries.base import ANALYSIS_DETAIL_TAG, ANALYSIS_TAG
from mlplatform.serving.traffic import Traffic
from tests.support.faulty_runtime import IMPLEMENTATION, save_faulty_model
from tests.support.local_fixtures import inference_request, mlp, save_iris_model

# Latency limits wider than the defaults (p99 at most 1.5x the stable's): these tests are about exit codes, reports
# and tags, and on a busy machine (another pytest-xdist worker, other jobs) a healthy canary's p99 can be 2-4x the
# stable's in two checks of three.
ANALYSIS = {"intervalSeconds": 2, "iterations": 3, "failureLimit": 1, "minRequests": 20,
            "maxLatencyRatio": 5, "maxLatencyP99Seconds": 1}
RATE = 100
# Real traffic and Prometheus: under pytest-xdist, never beside another "canary-timing" test (tests/README.md).
TIMING = pytest.mark.xdist_group("canary-timing")


def hook(platform_or_state, tmp_path, *extra: str, analysis: dict | None = None):
    """The hook as the chart's Job runs it, in local mode; `analysis` overrides modelServer.canary.analysis."""
    state_dir = getattr(platform_or_state, "state_dir", platform_or_state)
    overrides = tmp_path / "analysis-values.yaml"
    overrides.write_text(yaml.safe_dump({"modelServer": {"canary": {"analysis": analysis or ANALYSIS}}}))
    return mlp("hook", "canary-analysis", "--local", "--state-dir", str(state_dir), "--values", str(overrides),
               *extra, timeout=120)


def with_traffic(platform, run):
    with Traffic(platform.url("model-server") + "/v2/models/iris/infer", inference_request(), rate=RATE):
        return run()


def canary_values(canary_uri: str, implementation: str | None = None) -> dict:
    canary = {"name": "iris", "uri": canary_uri, **({"implementation": implementation} if implementation else {})}
    return {"modelServer": {"models": [{"name": "iris", "uri": "s3://models/iris/1"}],
                            "canary": {"enabled": True, "weight": 50, "models": [canary]}}}


@pytest.mark.slow
@TIMING
def test_a_passed_analysis_tags_the_canary_version_and_survives_a_dead_registry(local_platform_factory, tmp_path):
    platform = local_platform_factory(components=("model-server", "prometheus", "model-registry"))
    platform.upload_directory(save_iris_model(tmp_path / "iris"), "s3://models/iris/1")
    registry = open_registry("mlflow", platform.url("model-registry"))
    registry.ensure_model("iris")
    version = registry.ensure_version("iris", source="s3://models/iris/1").version
    registry.set_alias("iris", "candidate", version)
    platform.apply(canary_values("models:/iris@candidate"))

    result = with_traffic(platform, lambda: hook(platform, tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"models:/iris/{version} tagged {ANALYSIS_TAG}=passed (from models:/iris@candidate)" in result.stdout
    assert "canary analysis passed: " in result.stdout   # a busy machine may fail one check; the limit is 1
    report = json.loads((platform.state_dir / "canary-analysis.json").read_text())
    assert report["passed"] and len(report["checks"]) == 3 and report["settings"]["interval_seconds"] == 2
    tags = registry.get_version("iris", version).tags
    assert tags[ANALYSIS_TAG] == "passed" and tags[ANALYSIS_DETAIL_TAG] == report["reason"]

    platform.stop("model-registry")
    dead = tmp_path / "dead-registry.json"
    result = with_traffic(platform, lambda: hook(platform, tmp_path, "--report", str(dead), "--registry-deadline", "1"))
    assert result.returncode == 0, result.stdout + result.stderr
    warning = next(line for line in result.stdout.splitlines() if line.startswith("warning: registry:"))
    assert warning.startswith("warning: registry: models:/iris@candidate: still failing after"), warning
    assert "did not answer" in warning and warning.endswith("(the analysis's verdict stands)"), warning
    report = json.loads(dead.read_text())
    assert report["passed"] and report["registry"][0].startswith("not tagged: models:/iris@candidate")


@pytest.fixture(scope="module")
def faulty_platform(tmp_path_factory):
    """A platform whose canary fails 10% of its requests, served from s3:// (nothing to tag)."""
    from tests.support.local_fixtures import start_local_platform

    root = tmp_path_factory.mktemp("faulty")
    platform = start_local_platform(root / "state", components=("model-server", "prometheus"))
    try:
        platform.upload_directory(save_iris_model(root / "iris"), "s3://models/iris/1")
        platform.upload_directory(save_faulty_model(root / "bad", error_rate=0.1), "s3://models/iris/bad")
        platform.apply(canary_values("s3://models/iris/bad", IMPLEMENTATION))
        yield platform
    finally:
        platform.down()


@pytest.mark.slow
@TIMING
def test_a_failed_analysis_exits_1_with_its_reason_and_a_report(faulty_platform, tmp_path):
    report_path = tmp_path / "out" / "report.json"
    result = with_traffic(faulty_platform, lambda: hook(faulty_platform, tmp_path, "--report", str(report_path)))
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr.startswith("error: canary analysis failed: 2 failed checks exceed the failure limit 1")
    assert "registry: s3://models/iris/bad: not a registry version, not tagged" in result.stdout
    report = json.loads(report_path.read_text())
    assert not report["passed"] and report["failed_checks"] == 2
    assert "success rate" in report["checks"][-1]["reasons"][0]


@pytest.mark.slow
@TIMING
def test_prometheus_down_exits_3(faulty_platform, tmp_path):
    faulty_platform.stop("prometheus")
    result = hook(faulty_platform, tmp_path)
    assert result.returncode == 3, result.stdout + result.stderr
    prometheus = faulty_platform.url("prometheus")
    assert result.stderr.strip() == (f"error: canary analysis could not run: Prometheus at {prometheus} did not "
                                     "answer: connection refused")


def state_dir_with(tmp_path, services: dict[str, str], values: dict):
    state = tmp_path / "state"
    state.mkdir()
    Endpoints(services=services, platform="local", release="local").write(state / "endpoints.json")
    (state / "values.yaml").write_text(yaml.safe_dump(values))
    return state


def test_bad_analysis_values_exit_2_naming_the_key(tmp_path):
    state = state_dir_with(tmp_path, {"prometheus": "http://127.0.0.1:9"}, canary_values("s3://models/iris/2"))
    result = hook(state, tmp_path, analysis={"iterations": 0})
    assert result.returncode == 2
    assert "modelServer.canary.analysis.iterations: 0 is out of range" in result.stderr


def test_no_prometheus_exits_2(tmp_path):
    state = state_dir_with(tmp_path, {"model-server": "http://127.0.0.1:9"}, canary_values("s3://models/iris/2"))
    result = hook(state, tmp_path)
    assert result.returncode == 2
    assert "the canary analysis needs Prometheus" in result.stderr


def test_a_canary_without_traffic_has_nothing_to_analyse(tmp_path):
    values = canary_values("s3://models/iris/2")
    values["modelServer"]["canary"]["weight"] = 0
    state = state_dir_with(tmp_path, {"prometheus": "http://127.0.0.1:9"}, values)
    result = hook(state, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "nothing to analyse" in result.stdout
    assert not (state / "canary-analysis.json").exists()


def test_the_charts_hook_config_feeds_the_hook(chart_suite, tmp_path):
    """hooks.json as the umbrella renders it (contracts §5): the hook reads its settings and Prometheus from it,
    and says which Prometheus did not answer (the chart's service name does not resolve outside a cluster)."""
    from mlplatform.values.charts import Render

    render = Render("mlplatform", set_values=("modelServer.canary.enabled=true", "modelServer.canary.weight=10"))
    config = next(obj for obj in chart_suite.objects(render, 3)
                  if obj["kind"] == "ConfigMap" and obj["metadata"]["name"].endswith("-mlplatform-hooks"))
    hooks_json = tmp_path / "hooks.json"
    hooks_json.write_text(config["data"]["hooks.json"])
    overrides = tmp_path / "fast.yaml"
    overrides.write_text(yaml.safe_dump({"modelServer": {"canary": {"analysis": {
        "intervalSeconds": 1, "iterations": 2, "failureLimit": 0}}}}))
    result = mlp("hook", "canary-analysis", "--config", str(hooks_json), "--values", str(overrides),
                 "--report", str(tmp_path / "report.json"), timeout=60)
    assert result.returncode == 3, result.stdout + result.stderr
    assert "error: canary analysis could not run: Prometheus at http://mlp-prometheus:9090 did not answer" \
        in result.stderr
    assert json.loads((tmp_path / "report.json").read_text())["settings"]["min_requests"] == 20
