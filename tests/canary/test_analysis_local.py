"""The canary analysis against a real local platform: two MLServers behind nginx, Prometheus scraping
every second, real traffic, and a canary that fails or slows down on purpose (tests/support/faulty_runtime.py)."""

from __future__ import annotations

import time

import pytest
import requests

from mlplatform.canary.analysis import AnalysisSettings, analyse
from mlplatform.serving.traffic import Traffic
from tests.support.faulty_runtime import IMPLEMENTATION, save_faulty_model
from tests.support.local_fixtures import inference_request, save_iris_model

# Latencies under real traffic: under pytest-xdist, never beside another "canary-timing" test (tests/README.md).
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("canary-timing")]

INTERVAL = 2
SETTINGS_VALUES = {"intervalSeconds": INTERVAL, "iterations": 4, "failureLimit": 1, "minRequests": 20}
SETTINGS = AnalysisSettings.from_values(SETTINGS_VALUES)
RATE = 100         # requests per second through nginx; half of them reach the canary
DETECTION_INTERVALS = 3
WINDOW = 4         # the analysis's window: 4 scrapes of 1 s (mlplatform.canary.analysis.SCRAPES_PER_WINDOW)


@pytest.fixture
def platform(local_platform_factory):
    return local_platform_factory(components=("model-server", "prometheus"))


def serve_canary(platform, tmp_path, **faults) -> None:
    """Stable: the iris model; canary (50% of the traffic): the same model through FaultyModel with `faults`.
    Both tracks are warmed up (a freshly loaded model's first answers are slow) before the analysis window."""
    platform.upload_directory(save_iris_model(tmp_path / "stable"), "s3://models/iris/1")
    platform.upload_directory(save_faulty_model(tmp_path / "canary", **faults), "s3://models/iris/canary")
    platform.apply({"modelServer": {
        "models": [{"name": "iris", "uri": "s3://models/iris/1"}],
        "canary": {"enabled": True, "weight": 50,
                   "models": [{"name": "iris", "uri": "s3://models/iris/canary", "implementation": IMPLEMENTATION}]},
    }})
    for track in ("stable", "canary"):
        for _ in range(5):
            requests.post(platform.url(f"model-server-{track}") + "/v2/models/iris/infer", json=inference_request(),
                          timeout=10)
    time.sleep(WINDOW)    # the warm-up falls out of the first check's window


def traffic(platform) -> Traffic:
    return Traffic(platform.url("model-server") + "/v2/models/iris/infer", inference_request(), rate=RATE)


def recorded(platform, record: str, track: str) -> float | None:
    """A recording rule's value for a track (charts/prometheus/rules/serving.jsonnet), None before it has one."""
    response = requests.get(platform.url("prometheus") + "/api/v1/query", timeout=5,
                            params={"query": f'max({record}{{component="model-server", track="{track}"}})'})
    result = response.json()["data"]["result"]
    return float(result[0]["value"][1]) if result else None


def assert_detected(report, started: float, what: str) -> None:
    elapsed = time.monotonic() - started
    assert not report.passed, report.reason
    assert len(report.checks) <= DETECTION_INTERVALS, [check.reasons for check in report.checks]
    assert elapsed < DETECTION_INTERVALS * INTERVAL + 5, f"detected after {elapsed:.1f}s"
    assert what in report.reason, report.reason
    print(f"detected in {elapsed:.1f}s ({len(report.checks)} checks): {report.reason}")


def test_a_healthy_canary_passes(platform, tmp_path):
    serve_canary(platform, tmp_path)
    lines: list[str] = []
    # Every check must pass: latency limits wider than the defaults (p99 at most 1.5x the stable's), which a
    # healthy canary's p99 can exceed in one check on a busy machine (another pytest-xdist worker, other jobs).
    settings = AnalysisSettings.from_values({**SETTINGS_VALUES, "maxLatencyRatio": 5, "maxLatencyP99Seconds": 1})
    with traffic(platform) as load:
        report = analyse(platform.url("prometheus"), settings, progress=lines.append)
    print("\n".join(lines))
    assert report.passed, "\n".join(lines)
    assert len(report.checks) == SETTINGS.iterations
    assert report.checks[-1].metrics["success_rate"] == 1.0
    assert report.checks[-1].metrics["requests"] >= SETTINGS.min_requests
    assert load.stats(track="canary").total > 100 and load.stats().error_rate == 0
    assert lines[-1].startswith("check 4/4: success 100.0% (") and lines[-1].endswith(": ok"), lines
    assert recorded(platform, "mlplatform:model_inference_success:ratio_rate2m", "canary") == 1.0


def test_a_canary_failing_5_percent_of_requests_fails_within_3_intervals(platform, tmp_path):
    serve_canary(platform, tmp_path, error_rate=0.05)
    with traffic(platform) as load:
        started = time.monotonic()
        report = analyse(platform.url("prometheus"), SETTINGS)
    assert_detected(report, started, "success rate")
    canary = load.stats(track="canary")
    assert 0.02 < canary.error_rate < 0.08 and load.stats(track="stable").error_rate == 0
    success = recorded(platform, "mlplatform:model_server_success:ratio_rate2m", "canary")
    assert success is not None and 0.9 < success < 0.99
    assert recorded(platform, "mlplatform:model_inference_failures:rate2m", "canary") > 0


def test_a_canary_200ms_slower_fails_within_3_intervals(platform, tmp_path):
    serve_canary(platform, tmp_path, delay_seconds=0.2)
    with traffic(platform):
        started = time.monotonic()
        report = analyse(platform.url("prometheus"), SETTINGS)
    assert_detected(report, started, "the stable")
    assert report.checks[-1].metrics["p99_seconds"] > 0.2 > report.checks[-1].metrics["stable_p99_seconds"]
    assert recorded(platform, "mlplatform:model_server_latency_seconds:p99_rate2m", "canary") > 0.2
    assert recorded(platform, "mlplatform:model_server_latency_seconds:p50_rate2m", "stable") < 0.1


def test_prometheus_going_down_mid_analysis_fails_it(platform, tmp_path):
    serve_canary(platform, tmp_path)
    prometheus = platform.url("prometheus")

    def kill_after_the_first_check(line: str) -> None:
        if line.startswith("check 1/"):
            platform.stop("prometheus")

    # Only Prometheus is under test here: latency limits wide enough that a blip on a busy machine
    # cannot fail the first check.
    settings = AnalysisSettings.from_values({**SETTINGS_VALUES, "maxLatencyP99Seconds": 5, "maxLatencyRatio": 100})
    with traffic(platform):
        report = analyse(prometheus, settings, progress=kill_after_the_first_check)
    assert not report.passed
    assert report.checks[0].passed, report.checks[0].reasons
    assert report.checks[-1].reasons == [f"Prometheus at {prometheus} did not answer: connection refused"]
    assert report.dependency_failed
    assert len(report.checks) == 3           # two failures exceed failureLimit 1: no need to wait for the 4th


def test_no_traffic_never_passes(platform, tmp_path):
    serve_canary(platform, tmp_path)
    report = analyse(platform.url("prometheus"), SETTINGS)
    assert not report.passed
    assert all(not check.passed for check in report.checks)
    assert "not enough traffic to judge" in report.reason
    assert not report.dependency_failed
