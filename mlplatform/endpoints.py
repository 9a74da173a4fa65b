"""Where the platform's services answer: one shape for local mode and for a Helm release.

Local mode writes it to `<state-dir>/endpoints.json`; the umbrella chart renders the same shape into
the hooks' config (`/etc/mlplatform/hooks.json`, key `endpoints`). Checks, hooks and the demo read
it through this module and never build URLs themselves.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from mlplatform.errors import ConfigError

# The component names, as the charts name them.
COMPONENTS = (
    "pipeline-controller",
    "tuning-service",
    "training-operator",
    "model-registry",
    "minio",
    "prometheus",
    "model-server",          # the routed entry point: nginx locally, the router's Service in a cluster
    "model-server-stable",
    "model-server-canary",
    "dashboard",
)


@dataclass
class Endpoints:
    """Base URLs by component, plus the context they belong to."""

    services: dict[str, str]
    platform: str = "local"                    # "local" or "kubernetes"
    namespace: str | None = None
    release: str | None = None
    extra: dict = field(default_factory=dict)  # component-specific details (ports, bucket names, ...)

    def url(self, component: str) -> str:
        """The base URL of `component`, without a trailing slash."""
        if component not in self.services:
            known = ", ".join(sorted(self.services)) or "none"
            raise ConfigError(f"component {component!r} has no endpoint (enabled components: {known})")
        return self.services[component].rstrip("/")

    def has(self, component: str) -> bool:
        return component in self.services

    def to_dict(self) -> dict:
        return {
            "platform": self.platform,
            "namespace": self.namespace,
            "release": self.release,
            "services": dict(self.services),
            "extra": dict(self.extra),
        }

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n")

    @classmethod
    def from_dict(cls, data: dict, source: str = "endpoints") -> Endpoints:
        services = data.get("services")
        if not isinstance(services, dict):
            raise ConfigError(f"{source}: 'services' must be a mapping of component to URL")
        unknown = sorted(set(services) - set(COMPONENTS))
        if unknown:
            raise ConfigError(f"{source}: unknown components {unknown}; known: {list(COMPONENTS)}")
        return cls(
            services={name: str(url) for name, url in services.items()},
            platform=data.get("platform", "local"),
            namespace=data.get("namespace"),
            release=data.get("release"),
            extra=data.get("extra") or {},
        )

    @classmethod
    def read(cls, path: Path) -> Endpoints:
        path = Path(path)
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            raise ConfigError(f"{path} not found: is the platform running? (start it with `mlp local up`)") from None
        except json.JSONDecodeError as error:
            raise ConfigError(f"{path} is not valid JSON: {error}") from None
        return cls.from_dict(data, source=str(path))
