"""The tuning service's Prometheus metrics.

Experiments and trials by state are read from the database at scrape time, so they are right after
a restart; trial durations and starts are counted by this process.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from mlplatform.tuning.store import Phase, Store, TrialState

DURATION_BUCKETS = (0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600)


class _StateCounts(Collector):
    def __init__(self, store: Store):
        self.store = store

    def collect(self):
        experiments = GaugeMetricFamily("mlp_tuning_experiments", "Experiments by state", labels=["state"])
        counts = self.store.count_experiments()
        for phase in Phase:
            experiments.add_metric([phase.value], counts.get(phase.value, 0))
        yield experiments
        trials = GaugeMetricFamily("mlp_tuning_trials", "Trials by state", labels=["state"])
        counts = self.store.count_trials()
        for state in TrialState:
            trials.add_metric([state.value], counts.get(state.value, 0))
        yield trials


class TuningMetrics:
    def __init__(self, registry: CollectorRegistry, store: Store):
        registry.register(_StateCounts(store))
        self.trials_started = Counter(
            "mlp_tuning_trials_started", "Trials started by this process", registry=registry
        )
        self.trial_duration = Histogram(
            "mlp_tuning_trial_duration_seconds",
            "Trial duration from start to its final state",
            ["state"],
            buckets=DURATION_BUCKETS,
            registry=registry,
        )
