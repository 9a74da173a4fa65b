"""A load generator: v2 inference requests at a steady rate, for the demo, the canary tests and benchmarks.

    from mlplatform.serving.traffic import Traffic

    with Traffic(platform.url("model-server") + "/v2/models/iris/infer", body, rate=60) as traffic:
        ...                                 # analysis, rollout steps: the requests keep flowing
    stats = traffic.stats()                 # or traffic.stats(track="canary"), traffic.stats(since=t)
    assert stats.total > 100 and stats.error_rate < 0.01
    print(stats.by_status, stats.by_track, stats.percentile(0.99))

`Traffic` is open-loop: a dispatcher thread sends request i at start + i / rate from a pool of
`workers` threads (one HTTP keep-alive session each), whatever the answers take, as real clients do.
Each answer is recorded as a `Sample`: when it was sent (time.monotonic()), its HTTP status (0 when
the connection failed or timed out), its latency and the track that served it (nginx's
`X-Model-Server-Track` header, None without it). A request is never retried. When every worker is
busy the request waits for one, and its latency counts from when it is sent.

`body` is the v2 inference request every call sends. `stop()` (or leaving the `with`) stops sending and waits for the requests in flight.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Self

import requests

TRACK_HEADER = "X-Model-Server-Track"


@dataclass(frozen=True)
class Sample:
    sent: float                 # time.monotonic() when it was sent
    status: int                 # HTTP status; 0: no answer (connection refused, reset, timeout)
    latency: float              # seconds
    track: str | None           # the X-Model-Server-Track header


@dataclass
class TrafficStats:
    samples: list[Sample] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.samples)

    @property
    def errors(self) -> int:
        """Answers that are not a success for a client: 5xx and no answer at all."""
        return sum(1 for sample in self.samples if sample.status == 0 or sample.status >= 500)

    @property
    def error_rate(self) -> float:
        return self.errors / self.total if self.total else 0.0

    @property
    def by_status(self) -> dict[int, int]:
        return _count(sample.status for sample in self.samples)

    @property
    def by_track(self) -> dict[str | None, int]:
        return _count(sample.track for sample in self.samples)

    def percentile(self, quantile: float) -> float:
        """The latency below which `quantile` (0-1) of the answers came, in seconds (0.0 with no samples)."""
        latencies = sorted(sample.latency for sample in self.samples)
        if not latencies:
            return 0.0
        return latencies[min(len(latencies) - 1, int(quantile * len(latencies)))]


def _count(keys) -> dict:
    counts: dict = {}
    for key in keys:
        counts[key] = counts.get(key, 0) + 1
    return counts


class Traffic:
    """Send POST `url` with `body` at `rate` requests per second until stopped (see the module docstring)."""

    def __init__(self, url: str, body: dict, rate: float = 50.0, *, workers: int = 16,
                 timeout: float = 10.0):
        if rate <= 0:
            raise ValueError("rate must be above 0")
        self.url, self.rate, self.timeout = url, rate, timeout
        self.body = body
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="traffic")
        self._local = threading.local()
        self._samples: list[Sample] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._dispatcher = threading.Thread(target=self._dispatch, name="traffic-dispatcher", daemon=True)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def start(self) -> None:
        self._dispatcher.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._dispatcher.is_alive():
            self._dispatcher.join()
        self._pool.shutdown(wait=True)

    def stats(self, *, track: str | None = None, since: float | None = None) -> TrafficStats:
        """The answers so far; only those served by `track` and/or sent at or after `since` (time.monotonic())."""
        with self._lock:
            samples = list(self._samples)
        return TrafficStats([sample for sample in samples
                             if (track is None or sample.track == track) and (since is None or sample.sent >= since)])

    def _dispatch(self) -> None:
        start = time.monotonic()
        sent = 0
        while not self._stopping.is_set():
            due = start + sent / self.rate
            if self._stopping.wait(max(0.0, due - time.monotonic())):
                return
            self._pool.submit(self._send)
            sent += 1

    def _session(self) -> requests.Session:
        if not hasattr(self._local, "session"):
            self._local.session = requests.Session()
        return self._local.session

    def _send(self) -> None:
        sent = time.monotonic()
        try:
            response = self._session().post(self.url, json=self.body, timeout=self.timeout)
            status, track = response.status_code, response.headers.get(TRACK_HEADER)
        except requests.RequestException:
            status, track = 0, None
        sample = Sample(sent=sent, status=status, latency=time.monotonic() - sent, track=track)
        with self._lock:
            self._samples.append(sample)
