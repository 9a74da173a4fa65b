"""The training operator's Prometheus metrics: jobs by kind and state, read from the store at scrape time."""

from __future__ import annotations

from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from mlplatform.training.status import CREATED, FAILED, RESTARTING, RUNNING, SUCCEEDED, condition_of
from mlplatform.training.store import Store

STATES = (SUCCEEDED, FAILED, RESTARTING, RUNNING, CREATED)


class _JobCounts(Collector):
    def __init__(self, store: Store):
        self.store = store

    def collect(self):
        family = GaugeMetricFamily("mlp_training_jobs", "Training jobs by kind and state", labels=["kind", "state"])
        counts: dict[tuple[str, str], int] = {}
        for record in self.store.jobs():
            state = next((kind for kind in STATES if condition_of(record.status, kind)), CREATED)
            counts[(record.kind, state)] = counts.get((record.kind, state), 0) + 1
        for (kind, state), count in sorted(counts.items()):
            family.add_metric([kind, state], count)
        yield family


def register_metrics(registry: CollectorRegistry, store: Store) -> None:
    registry.register(_JobCounts(store))
