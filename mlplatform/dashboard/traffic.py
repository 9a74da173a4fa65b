"""The model server's live traffic per track, from Prometheus' recording rules (charts/prometheus/rules)."""

from __future__ import annotations

import math

from mlplatform.dashboard.backends import Backend

SERIES = {  # column -> recording rule, each by track
    "requests_per_second": "mlplatform:model_server_requests:rate2m",
    "success_ratio": "mlplatform:model_server_success:ratio_rate2m",
    "p99_seconds": "mlplatform:model_server_latency_seconds:p99_rate2m",
}


def traffic_by_track(prometheus: Backend) -> dict[str, dict[str, float]]:
    """{"stable": {"requests_per_second": 12.0, "success_ratio": 1.0, "p99_seconds": 0.02, "share": 0.75}, ...}"""
    tracks: dict[str, dict[str, float]] = {}
    for column, rule in SERIES.items():
        answer = prometheus.get("/api/v1/query", params={"query": f"sum by (track) ({rule})"
                                                        if column == "requests_per_second" else rule})
        for sample in answer.get("data", {}).get("result", []):
            track = sample["metric"].get("track", "")
            value = float(sample["value"][1])
            if track and not math.isnan(value):   # NaN: no traffic in the window
                tracks.setdefault(track, {})[column] = value
    total = sum(track.get("requests_per_second", 0.0) for track in tracks.values())
    for track in tracks.values():
        track["share"] = track.get("requests_per_second", 0.0) / total if total else 0.0
    return dict(sorted(tracks.items()))
