"""Metrics collectors: how a trial's metrics are read, the way Katib's collectors read them.

- StdOut: the trial's output, parsed line by line with Katib's `name=value` regex or the
  experiment's `metricsFormat` filters.
- File: a file the trial writes, TEXT (parsed like StdOut) or JSON (one object per line). Katib
  injects a sidecar for this; we wrap the primary container's command instead, so it works the same
  in a subprocess and in a Job's pod: while the command runs `tail -F` echoes the file into the
  output (for early stopping), and when it ends the whole file is printed between two marker lines.
- Push: the trial calls `mlplatform.tuning.report_metrics()`, which posts to the service.

Every collector returns `MetricLog`s in the order they were reported; `observation()` summarises
them into Katib's `observation.metrics` (min, max, latest per metric).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass

from mlplatform.tuning.spec import MetricsCollector, Objective

UNAVAILABLE = "unavailable"  # Katib's value for a metric that was never reported
FILE_BEGIN = "@@mlp-metrics-file-begin@@"
FILE_END = "@@mlp-metrics-file-end@@"

# sh -c FILE_WRAPPER mlp-trial <metrics file> <argv...>
FILE_WRAPPER = f"""metrics_file="$1"; shift
mkdir -p "$(dirname "$metrics_file")" 2>/dev/null
tail -n +1 -F "$metrics_file" 2>/dev/null &
tailer=$!
"$@"
code=$?
kill "$tailer" 2>/dev/null
echo "{FILE_BEGIN}"
cat "$metrics_file" 2>/dev/null
echo
echo "{FILE_END}"
exit $code"""

_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\S+$")


@dataclass(frozen=True)
class MetricLog:
    name: str
    value: str  # as reported
    timestamp: str | None = None

    @property
    def number(self) -> float | None:
        try:
            return float(self.value)
        except ValueError:
            return None


class Collector:
    """Reads a trial's metrics from its output (and, for Push, from what it posted)."""

    def __init__(self, spec: MetricsCollector, metric_names: Iterable[str]):
        self.spec = spec
        self.metric_names = tuple(metric_names)
        self._filters = [re.compile(pattern) for pattern in spec.filters]

    def command(self, argv: list[str], path: str | None = None) -> list[str]:
        """The argv that runs `argv` so that this collector can read its metrics (from `path`, the
        trial's private copy of the File collector's path, when given)."""
        if self.spec.kind == "File":
            return ["sh", "-c", FILE_WRAPPER, "mlp-trial", path or self.spec.path, *argv]
        return argv

    def collect(self, output: str, pushed: list[MetricLog]) -> list[MetricLog]:
        if self.spec.kind == "Push":
            return [log for log in pushed if log.name in self.metric_names]
        if self.spec.kind == "File":
            return self._parse_file(output)
        return self._parse_text(output.splitlines())

    def _parse_file(self, output: str) -> list[MetricLog]:
        live, marker, rest = output.partition(FILE_BEGIN)
        lines = rest.split(FILE_END)[0].splitlines() if marker else live.splitlines()
        if self.spec.format == "JSON":
            return self._parse_json(lines)
        return self._parse_text(lines)

    def _parse_text(self, lines: Iterable[str]) -> list[MetricLog]:
        logs = []
        for line in lines:
            if not any(name in line for name in self.metric_names):
                continue
            first = line.split(" ", 1)[0]
            timestamp = first if _RFC3339.match(first) else None
            for pattern in self._filters:
                for match in pattern.finditer(line):
                    name, value = match.group(1).strip(), match.group(2).strip()
                    log = MetricLog(name, value, timestamp)
                    if name in self.metric_names and log.number is not None:
                        logs.append(log)
        return logs

    def _parse_json(self, lines: Iterable[str]) -> list[MetricLog]:
        logs = []
        for line in lines:
            try:
                record = json.loads(line)
            except ValueError:
                continue  # a partial line while the file is being written, or not JSON at all
            if not isinstance(record, dict):
                continue
            timestamp = record.get("timestamp")
            for name in self.metric_names:
                value = record.get(name)
                if isinstance(value, (str, int, float)) and not isinstance(value, bool):
                    log = MetricLog(name, str(value), None if timestamp is None else str(timestamp))
                    if log.number is not None:
                        logs.append(log)
        return logs


def observation(logs: list[MetricLog], objective: Objective) -> list[dict]:
    """Katib's `observation.metrics`: min, max and latest of every metric, as strings."""
    metrics = []
    for name in objective.metric_names:
        values = [log for log in logs if log.name == name]
        if not values:
            metrics.append({"name": name, "min": UNAVAILABLE, "max": UNAVAILABLE, "latest": UNAVAILABLE})
            continue
        low = min(values, key=lambda log: log.number)
        high = max(values, key=lambda log: log.number)
        metrics.append({"name": name, "min": low.value, "max": high.value, "latest": values[-1].value})
    return metrics


def objective_value(logs: list[MetricLog], objective: Objective) -> float | None:
    """The trial's result by the objective's metric strategy (min, max or latest); None if never reported."""
    values = series(logs, objective.metric)
    if not values:
        return None
    strategy = objective.strategies[objective.metric]
    return {"min": min, "max": max, "latest": lambda v: v[-1]}[strategy](values)


def series(logs: list[MetricLog], name: str) -> list[float]:
    """The values of one metric in the order reported: the intermediate values early stopping judges."""
    return [log.number for log in logs if log.name == name]
