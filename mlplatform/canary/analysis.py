"""Canary analysis: is the canary track as good as the stable one? Asked of Prometheus, Flagger's way.

Flagger's analysis (and an Argo Rollouts AnalysisTemplate with `interval`, `count` and `failureLimit`)
runs a set of metric checks every `interval`, `iterations` times, and gives up on the canary once
more than `failureLimit` (Flagger: `threshold`) checks have failed. This module does the same with the
settings of `modelServer.canary.analysis` (contracts §6). Each check, one interval after the last,
measures the canary track over the last interval:

- requests: inferences the canary's models answered or raised on (model_infer_request_duration_count,
  REST and gRPC). Fewer than `minRequests` fails the check: no data never passes (fail safe).
- success rate: the worse of the REST success rate (non-5xx answers on /v2/models/.../infer) and the
  inference success rate (1 - model_infer_request_failure / inferences). Below `minSuccessRate` fails.
- p99 latency from MLServer's REST histogram: above `maxLatencyP99Seconds` fails, and so does a canary
  p99 more than `maxLatencyRatio` times the stable track's (only when the stable track has traffic; a
  stable p99 under 25 ms counts as 25 ms, below the histogram's resolution).
- Prometheus not answering, or refusing a query, fails the check, naming Prometheus and its URL.

`rate()` needs two samples in its window, so the window is the interval widened to 4 scrape intervals
(read from Prometheus's configuration) when the interval is shorter. The metric names and their labels
are those of charts/prometheus/rules/serving.jsonnet, which records the same series for dashboards.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import requests
import yaml

from mlplatform.checks.health import describe_failure
from mlplatform.errors import ConfigError

SCRAPES_PER_WINDOW = 4           # the fewest scrapes a rate() window should hold
# MLServer's latency histogram starts with 5, 10 and 25 ms buckets: below 25 ms a p99 is mostly
# interpolation, so the ratio check compares the canary with max(stable p99, 25 ms).
RATIO_FLOOR_SECONDS = 0.025
QUERY_TIMEOUT_SECONDS = 10.0
INFER_PATHS = 'path=~"/v2/models/.+/infer"'
LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")

# camelCase key in values -> (field, type, lowest, highest, lowest excluded); the chart's defaults below.
KEYS = {
    "intervalSeconds": ("interval_seconds", float, 0, 3600, True),
    "iterations": ("iterations", int, 1, 1000, False),
    "failureLimit": ("failure_limit", int, 0, 1000, False),
    "minRequests": ("min_requests", int, 0, None, False),
    "minSuccessRate": ("min_success_rate", float, 0, 1, False),
    "maxLatencyP99Seconds": ("max_latency_p99_seconds", float, 0, None, True),
    "maxLatencyRatio": ("max_latency_ratio", float, 1, None, False),
}
DEFAULTS = {"intervalSeconds": 30, "iterations": 5, "failureLimit": 2, "minRequests": 20, "minSuccessRate": 0.99,
            "maxLatencyP99Seconds": 0.5, "maxLatencyRatio": 1.5}
VALUES_PATH = "modelServer.canary.analysis"
NO_TRAFFIC = "no traffic"   # how a check that saw too few requests starts its reason


@dataclass(frozen=True)
class AnalysisSettings:
    interval_seconds: float
    iterations: int
    failure_limit: int
    min_requests: int
    min_success_rate: float
    max_latency_p99_seconds: float
    max_latency_ratio: float

    @classmethod
    def from_values(cls, analysis: dict | None) -> AnalysisSettings:
        """From `modelServer.canary.analysis` (camelCase keys; the chart's defaults for missing ones)."""
        if analysis is None:
            analysis = {}
        if not isinstance(analysis, dict):
            raise ConfigError(f"{VALUES_PATH} must be a mapping, not {type(analysis).__name__}")
        unknown = sorted(set(analysis) - set(KEYS))
        if unknown:
            raise ConfigError(f"{VALUES_PATH}.{unknown[0]}: unknown key (known: {', '.join(KEYS)})")
        merged = {**DEFAULTS, **analysis}
        return cls(**{KEYS[key][0]: _setting(key, merged[key]) for key in KEYS})

    @property
    def duration_seconds(self) -> float:
        return self.interval_seconds * self.iterations


def _setting(key: str, value) -> float | int:
    _, kind, lowest, highest, exclusive = KEYS[key]
    where = f"{VALUES_PATH}.{key}"
    if isinstance(value, bool) or not isinstance(value, int | float) or (kind is int and not float(value).is_integer()):
        raise ConfigError(f"{where}: expected {'an integer' if kind is int else 'a number'}, got {value!r}")
    too_low = value <= lowest if exclusive else value < lowest
    if too_low or (highest is not None and value > highest):
        bounds = f"{'above' if exclusive else 'at least'} {lowest}" + (f" and at most {highest}" if highest is not None else "")
        raise ConfigError(f"{where}: {value!r} is out of range (must be {bounds})")
    return kind(value)


@dataclass
class CheckResult:
    iteration: int
    passed: bool
    reasons: list[str]
    metrics: dict


@dataclass
class AnalysisReport:
    passed: bool
    reason: str
    checks: list[CheckResult]
    settings: AnalysisSettings
    started_at: str
    ended_at: str

    @property
    def failed_checks(self) -> int:
        return sum(1 for check in self.checks if not check.passed)

    @property
    def dependency_failed(self) -> bool:
        """Failed without measuring anything: every failed check is Prometheus not answering."""
        failed = [check for check in self.checks if not check.passed]
        return not self.passed and bool(failed) and all(not check.metrics for check in failed)

    def to_dict(self) -> dict:
        return {"passed": self.passed, "reason": self.reason, "failed_checks": self.failed_checks,
                "settings": asdict(self.settings), "started_at": self.started_at, "ended_at": self.ended_at,
                "checks": [asdict(check) for check in self.checks]}

    def write(self, path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2) + "\n")


class PrometheusError(Exception):
    """Prometheus did not answer or refused a query: the one line a failed check shows."""


class Prometheus:
    """The instant-query API of one Prometheus."""

    def __init__(self, url: str):
        self.url = url.rstrip("/")
        self._scrape_interval: float | None = None

    def _get(self, path: str, params: dict | None = None) -> dict:
        try:
            response = requests.get(self.url + path, params=params, timeout=QUERY_TIMEOUT_SECONDS)
        except requests.RequestException as error:
            raise PrometheusError(f"Prometheus at {self.url} did not answer: {describe_failure(error)}") from None
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code != 200 or body.get("status") != "success":
            detail = body.get("error") or response.text[:200]
            raise PrometheusError(f"Prometheus at {self.url} answered HTTP {response.status_code}: {detail}")
        return body["data"]

    def value(self, promql: str) -> float | None:
        """The single value of a query, None when it has no sample (no series, or NaN)."""
        result = self._get("/api/v1/query", {"query": promql}).get("result") or []
        if not result:
            return None
        value = float(result[0]["value"][1])
        return None if math.isnan(value) or math.isinf(value) else value

    def scrape_interval(self) -> float:
        """The global scrape interval of Prometheus's configuration, in seconds (read once)."""
        if self._scrape_interval is None:
            config = yaml.safe_load(self._get("/api/v1/status/config")["yaml"]) or {}
            self._scrape_interval = parse_duration(str((config.get("global") or {}).get("scrape_interval", "1m")))
        return self._scrape_interval


def parse_duration(text: str) -> float:
    """Prometheus duration syntax in seconds: '15s' -> 15.0, '1m30s' -> 90.0, '1500ms' -> 1.5."""
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
    parts = re.findall(r"(\d+)(ms|s|m|h|d|w|y)", text)
    if not parts or "".join(number + unit for number, unit in parts) != text:
        raise PrometheusError(f"cannot read the Prometheus duration {text!r}")
    return sum(int(number) * units[unit] for number, unit in parts)


def label_matchers(labels: dict[str, str]) -> str:
    for name in labels:
        if not LABEL_NAME.match(name):
            raise ConfigError(f"analysis selector: {name!r} is not a Prometheus label name")
    return ", ".join(f'{name}="{_escape(value)}"' for name, value in labels.items())


def _escape(value: str) -> str:
    return str(value).replace("\\", "\\\\").replace('"', '\\"')


@dataclass
class TrackQueries:
    """PromQL for one track over one window."""

    matchers: str
    window: str

    def _increase(self, metric: str, extra: str = "") -> str:
        selector = ", ".join(filter(None, (self.matchers, extra)))
        return f"sum(increase({metric}{{{selector}}}[{self.window}]))"

    def p99(self) -> str:
        return (f"histogram_quantile(0.99, sum by (le) (rate(rest_server_request_duration_seconds_bucket"
                f"{{{self.matchers}, {INFER_PATHS}}}[{self.window}])))")

    def measure(self, prometheus: Prometheus) -> dict:
        """requests, REST and inference success rates and p99 of the track (None where there is no data)."""
        value = prometheus.value
        inferences = value(self._increase("model_infer_request_duration_count")) or 0.0
        failures = value(self._increase("model_infer_request_failure_total")) or 0.0
        rest = value(self._increase("rest_server_requests_total", INFER_PATHS)) or 0.0
        rest_errors = value(self._increase("rest_server_requests_total", f'{INFER_PATHS}, status_code=~"5.."')) or 0.0
        return {
            "inferences": inferences,
            "inference_success_rate": 1 - failures / inferences if inferences else None,
            "rest_success_rate": 1 - rest_errors / rest if rest else None,
            "p99_seconds": value(self.p99()),
        }


@dataclass
class Analysis:
    """One run of the analysis: settings, where to ask, and the checks so far."""

    prometheus: Prometheus
    settings: AnalysisSettings
    selector: dict[str, str] = field(default_factory=dict)
    checks: list[CheckResult] = field(default_factory=list)

    def window_seconds(self) -> float:
        return max(self.settings.interval_seconds, SCRAPES_PER_WINDOW * self.prometheus.scrape_interval())

    def queries(self, track: str, window: float) -> TrackQueries:
        labels = {"component": "model-server", **self.selector, "track": track}
        return TrackQueries(label_matchers(labels), f"{round(window * 1000)}ms")

    def check(self, iteration: int) -> CheckResult:
        try:
            window = self.window_seconds()
            canary = self.queries("canary", window).measure(self.prometheus)
            stable_p99 = self.prometheus.value(self.queries("stable", window).p99())
        except PrometheusError as error:
            return CheckResult(iteration, False, [str(error)], {})
        metrics = summarise(canary, stable_p99, window, self.settings.interval_seconds)
        return CheckResult(iteration, not (reasons := self.judge(metrics)), reasons, metrics)

    def judge(self, metrics: dict) -> list[str]:
        """Why the measured interval fails the settings (empty: it passes)."""
        settings = self.settings
        requests_ = metrics["requests"]
        if requests_ < max(settings.min_requests, 1):
            return [f"{NO_TRAFFIC}: {requests_:.0f} canary requests, fewer than minRequests {settings.min_requests}, "
                    "not enough traffic to judge"]
        reasons = []
        success, p99, stable = metrics["success_rate"], metrics["p99_seconds"], metrics["stable_p99_seconds"]
        if success < settings.min_success_rate:
            reasons.append(f"success rate {percent(success)} < {percent(settings.min_success_rate)}")
        if p99 is None:
            reasons.append("no canary latency data")
        elif p99 > settings.max_latency_p99_seconds:
            reasons.append(f"p99 {ms(p99)} > {ms(settings.max_latency_p99_seconds)}")
        ratio = p99 / max(stable, RATIO_FLOOR_SECONDS) if p99 is not None and stable is not None else None
        if ratio is not None and ratio > settings.max_latency_ratio:
            reasons.append(f"p99 {ms(p99)} is {ratio:.1f}x the stable {ms(stable)} (> {settings.max_latency_ratio:g}x)")
        return reasons


def summarise(canary: dict, stable_p99: float | None, window: float, interval: float) -> dict:
    """The check's metrics: requests scaled to one interval, the worse success rate, the p99s."""
    rates = [rate for rate in (canary["inference_success_rate"], canary["rest_success_rate"]) if rate is not None]
    return {
        "requests": round(canary["inferences"] * interval / window, 1),
        "success_rate": min(rates) if rates else None,
        "inference_success_rate": canary["inference_success_rate"],
        "rest_success_rate": canary["rest_success_rate"],
        "p99_seconds": canary["p99_seconds"],
        "stable_p99_seconds": stable_p99,
        "window_seconds": window,
    }


def percent(rate: float) -> str:
    return f"{rate * 100:.1f}%"


def ms(seconds: float | None) -> str:
    return "n/a" if seconds is None else f"{seconds * 1000:.0f} ms"


def progress_line(check: CheckResult, iterations: int) -> str:
    """'check 2/5: success 99.8% (412 req), p99 41 ms vs stable 39 ms: ok' (or ': failed: <why>')."""
    metrics = check.metrics
    head = f"check {check.iteration}/{iterations}"
    if metrics:
        success = "n/a" if metrics["success_rate"] is None else percent(metrics["success_rate"])
        head += (f": success {success} ({metrics['requests']:.0f} req), p99 {ms(metrics['p99_seconds'])} "
                 f"vs stable {ms(metrics['stable_p99_seconds'])}")
    return f"{head}: ok" if check.passed else f"{head}: failed: {'; '.join(check.reasons)}"


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def analyse(prometheus_url: str, settings: AnalysisSettings, *, selector: dict[str, str] | None = None,
            progress: Callable[[str], None] = lambda line: None, sleep=time.sleep) -> AnalysisReport:
    """Run the analysis (see the module docstring): `iterations` checks one interval apart, stopping
    as soon as more than `failureLimit` have failed. `selector` adds label matchers (a namespace)."""
    label_matchers(selector or {})   # a bad selector is a ConfigError before any waiting
    analysis = Analysis(Prometheus(prometheus_url), settings, dict(selector or {}))
    started_at, start = now(), time.monotonic()
    progress(f"analysing the canary in Prometheus at {prometheus_url}: {settings.iterations} checks "
             f"{settings.interval_seconds:g}s apart, at most {settings.failure_limit} may fail")
    for iteration in range(1, settings.iterations + 1):
        sleep(max(0.0, start + iteration * settings.interval_seconds - time.monotonic()))
        check = analysis.check(iteration)
        analysis.checks.append(check)
        progress(progress_line(check, settings.iterations))
        failed = sum(1 for check in analysis.checks if not check.passed)
        if failed > settings.failure_limit:
            return _report(analysis, False, f"{failed} failed checks exceed the failure limit "
                           f"{settings.failure_limit} (check {iteration}/{settings.iterations}: "
                           f"{'; '.join(check.reasons)})", started_at)
    failed = sum(1 for check in analysis.checks if not check.passed)
    return _report(analysis, True, f"{settings.iterations - failed} of {settings.iterations} checks passed "
                   f"({failed} failed, limit {settings.failure_limit})", started_at)


def _report(analysis: Analysis, passed: bool, reason: str, started_at: str) -> AnalysisReport:
    return AnalysisReport(passed=passed, reason=reason, checks=analysis.checks, settings=analysis.settings,
                          started_at=started_at, ended_at=now())
