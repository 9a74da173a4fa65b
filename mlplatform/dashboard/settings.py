"""Where the dashboard finds each backend: flags, or local mode's endpoints.json."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from mlplatform.endpoints import Endpoints

# Settings field -> the component's name in endpoints.json (contracts §1).
BACKENDS = {
    "pipelines_url": "pipeline-controller",
    "tuning_url": "tuning-service",
    "registry_url": "model-registry",
    "prometheus_url": "prometheus",
    "model_server_url": "model-server",
}


@dataclass(frozen=True)
class Settings:
    pipelines_url: str | None = None
    tuning_url: str | None = None
    registry_url: str | None = None
    prometheus_url: str | None = None
    model_server_url: str | None = None
    state_dir: Path | None = None      # local mode's state: the rollout and platform pages read it
    timeout: float = 10.0              # seconds for one backend request

    @classmethod
    def from_endpoints(cls, path: Path) -> Settings:
        endpoints = Endpoints.read(path)
        urls = {field: endpoints.url(component) for field, component in BACKENDS.items() if endpoints.has(component)}
        state_dir = endpoints.extra.get("state_dir")
        return cls(**urls, state_dir=Path(state_dir) if state_dir else Path(path).parent)

    def overridden(self, **urls: str | None) -> Settings:
        """These settings with every URL that is given (not None) replacing the one here."""
        return replace(self, **{name: url.rstrip("/") for name, url in urls.items() if url})
