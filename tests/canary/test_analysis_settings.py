"""AnalysisSettings from `modelServer.canary.analysis`, and the pure parts of a check (no processes)."""

from __future__ import annotations

import pytest

from mlplatform.canary.analysis import (
    Analysis,
    AnalysisSettings,
    Prometheus,
    label_matchers,
    parse_duration,
    progress_line,
    summarise,
)
from mlplatform.errors import ConfigError

CHART_DEFAULTS = AnalysisSettings(interval_seconds=30, iterations=5, failure_limit=2, min_requests=20,
                                  min_success_rate=0.99, max_latency_p99_seconds=0.5, max_latency_ratio=1.5)


def test_missing_keys_take_the_charts_defaults():
    assert AnalysisSettings.from_values({}) == CHART_DEFAULTS
    assert AnalysisSettings.from_values(None) == CHART_DEFAULTS


def test_given_keys_override_the_defaults():
    settings = AnalysisSettings.from_values({"intervalSeconds": 2, "iterations": 3, "failureLimit": 0,
                                             "minRequests": 0, "minSuccessRate": 1, "maxLatencyP99Seconds": 0.25,
                                             "maxLatencyRatio": 2})
    assert settings == AnalysisSettings(2.0, 3, 0, 0, 1.0, 0.25, 2.0)
    assert isinstance(settings.iterations, int) and isinstance(settings.interval_seconds, float)
    assert settings.duration_seconds == 6


def test_the_chart_values_file_and_the_defaults_agree():
    import yaml

    from mlplatform.tools import PROJECT_ROOT

    chart = yaml.safe_load((PROJECT_ROOT / "charts" / "model-server" / "values.yaml").read_text())
    assert AnalysisSettings.from_values(chart["canary"]["analysis"]) == CHART_DEFAULTS


@pytest.mark.parametrize(("analysis", "message"), [
    ({"intervalSeconds": 0}, "modelServer.canary.analysis.intervalSeconds: 0 is out of range (must be above 0"),
    ({"intervalSeconds": "30s"}, "modelServer.canary.analysis.intervalSeconds: expected a number, got '30s'"),
    ({"iterations": 0}, "modelServer.canary.analysis.iterations: 0 is out of range (must be at least 1"),
    ({"iterations": 2.5}, "modelServer.canary.analysis.iterations: expected an integer, got 2.5"),
    ({"failureLimit": -1}, "modelServer.canary.analysis.failureLimit: -1 is out of range"),
    ({"failureLimit": True}, "modelServer.canary.analysis.failureLimit: expected an integer, got True"),
    ({"minRequests": None}, "modelServer.canary.analysis.minRequests: expected an integer, got None"),
    ({"minSuccessRate": 99}, "modelServer.canary.analysis.minSuccessRate: 99 is out of range (must be at least 0 and"),
    ({"maxLatencyP99Seconds": 0}, "modelServer.canary.analysis.maxLatencyP99Seconds: 0 is out of range"),
    ({"maxLatencyRatio": 0.5}, "modelServer.canary.analysis.maxLatencyRatio: 0.5 is out of range (must be at least 1)"),
    ({"interval": 30}, "modelServer.canary.analysis.interval: unknown key"),
    ([30], "modelServer.canary.analysis must be a mapping, not list"),
])
def test_bad_values_are_a_config_error_naming_the_key(analysis, message):
    with pytest.raises(ConfigError) as error:
        AnalysisSettings.from_values(analysis)
    assert str(error.value).startswith(message), str(error.value)
    assert error.value.exit_code == 2


def test_an_integral_float_is_an_integer():
    assert AnalysisSettings.from_values({"iterations": 4.0}).iterations == 4


@pytest.mark.parametrize(("text", "seconds"), [("15s", 15), ("1m30s", 90), ("1500ms", 1.5), ("1m", 60)])
def test_prometheus_durations(text, seconds):
    assert parse_duration(text) == seconds


def test_selector_labels_are_escaped_and_checked():
    assert label_matchers({"namespace": 'a"b', "track": "canary"}) == 'namespace="a\\"b", track="canary"'
    with pytest.raises(ConfigError, match="'bad-label' is not a Prometheus label name"):
        label_matchers({"bad-label": "x"})


def judge(settings: AnalysisSettings, **measured) -> list[str]:
    canary = {"inferences": 100.0, "inference_success_rate": 1.0, "rest_success_rate": 1.0, "p99_seconds": 0.02}
    canary.update({key: value for key, value in measured.items() if key != "stable"})
    metrics = summarise(canary, measured.get("stable", 0.02), window=2.0, interval=2.0)
    return Analysis(Prometheus("http://unused"), settings).judge(metrics)


def test_each_threshold_fails_a_check_with_its_reason():
    settings = AnalysisSettings.from_values({"minRequests": 20})
    assert judge(settings) == []
    assert judge(settings, inferences=19.0) == ["no traffic: 19 canary requests, fewer than minRequests 20, not enough traffic to judge"]
    assert judge(settings, inferences=0.0, inference_success_rate=None, rest_success_rate=None, p99_seconds=None)
    assert judge(settings, rest_success_rate=0.95) == ["success rate 95.0% < 99.0%"]
    assert judge(settings, inference_success_rate=0.98) == ["success rate 98.0% < 99.0%"]
    assert judge(settings, p99_seconds=0.6, stable=0.5) == ["p99 600 ms > 500 ms"]
    assert judge(settings, p99_seconds=0.2, stable=0.05) == ["p99 200 ms is 4.0x the stable 50 ms (> 1.5x)"]
    assert judge(settings, p99_seconds=None) == ["no canary latency data"]


def test_no_traffic_fails_even_when_min_requests_is_zero():
    assert judge(AnalysisSettings.from_values({"minRequests": 0}), inferences=0.0, inference_success_rate=None,
                 rest_success_rate=None, p99_seconds=None)


def test_the_ratio_needs_stable_data_and_ignores_latencies_under_the_histograms_resolution():
    settings = AnalysisSettings.from_values({})
    assert judge(settings, p99_seconds=0.2, stable=None) == []           # no stable traffic: no ratio
    assert judge(settings, p99_seconds=0.009, stable=0.004) == []        # both under 25 ms: no signal
    assert judge(settings, p99_seconds=0.04, stable=0.004) == ["p99 40 ms is 1.6x the stable 4 ms (> 1.5x)"]


def test_requests_are_counted_per_interval_when_the_window_is_wider():
    canary = {"inferences": 120.0, "inference_success_rate": 1.0, "rest_success_rate": None, "p99_seconds": 0.01}
    metrics = summarise(canary, None, window=4.0, interval=2.0)
    assert metrics["requests"] == 60 and metrics["success_rate"] == 1.0 and metrics["window_seconds"] == 4.0


def test_progress_lines():
    from mlplatform.canary.analysis import CheckResult

    metrics = {"requests": 412, "success_rate": 0.998, "p99_seconds": 0.041, "stable_p99_seconds": 0.039}
    assert progress_line(CheckResult(2, True, [], metrics), 5) == \
        "check 2/5: success 99.8% (412 req), p99 41 ms vs stable 39 ms: ok"
    down = CheckResult(3, False, ["Prometheus at http://p:9090 did not answer: connection refused"], {})
    assert progress_line(down, 5) == "check 3/5: failed: Prometheus at http://p:9090 did not answer: connection refused"
