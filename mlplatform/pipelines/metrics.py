"""Prometheus metrics: runs and tasks by state (read from SQL at scrape time, so they are right after a
restart), task durations, finished runs and cache hits, and the runner's queue depth."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily

from mlplatform.pipelines.store import Run, Store, Task

DURATION_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, float("inf"))


class _StateCollector:
    def __init__(self, store: Store, runner):
        self.store = store
        self.runner = runner

    def collect(self):
        runs = GaugeMetricFamily("mlp_pipeline_runs", "Pipeline runs by state", labels=["state"])
        for state, count in sorted(self.store.count_by_state(Run).items()):
            runs.add_metric([state], count)
        yield runs
        tasks = GaugeMetricFamily(
            "mlp_pipeline_tasks", "Pipeline tasks (all kinds) by state", labels=["state"]
        )
        for state, count in sorted(self.store.count_by_state(Task).items()):
            tasks.add_metric([state], count)
        yield tasks
        yield GaugeMetricFamily(
            "mlp_pipeline_queue_depth",
            "Tasks accepted by the runner, waiting for a slot",
            value=self.runner.queue_depth(),
        )


class Metrics:
    def __init__(self, registry: CollectorRegistry, store: Store, runner):
        registry.register(_StateCollector(store, runner))
        self.task_duration = Histogram(
            "mlp_pipeline_task_duration_seconds",
            "Wall time of executor task attempts that finished",
            buckets=DURATION_BUCKETS,
            registry=registry,
        )
        self.tasks_finished = Counter(
            "mlp_pipeline_tasks_finished",
            "Executor tasks that finished",
            ["state", "cached"],
            registry=registry,
        )
        self.runs_finished = Counter(
            "mlp_pipeline_runs_finished", "Runs that finished", ["state"], registry=registry
        )

    def task_finished(self, state: str, seconds: float | None, cached: bool = False) -> None:
        self.tasks_finished.labels(state, str(cached).lower()).inc()
        if seconds is not None:
            self.task_duration.observe(seconds)

    def run_finished(self, state: str) -> None:
        self.runs_finished.labels(state).inc()
