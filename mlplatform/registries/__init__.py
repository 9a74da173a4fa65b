"""Model registration backends, loaded through the `mlplatform.registries` entry point group.

`open_registry(name, url, settings)` builds a backend; `registry_url(endpoints, settings)` says where
the registry answers: `registryUrl` in the register hook's settings, else the platform's model-registry.
"""

from __future__ import annotations

from mlplatform import plugins
from mlplatform.endpoints import Endpoints
from mlplatform.registries.base import (
    ModelVersionInfo,
    RegistryBackend,
    RegistryUnavailable,
    VersionNotFound,
    split_reference,
)

DEFAULT_REGISTRY = "mlflow"

__all__ = [
    "DEFAULT_REGISTRY", "ModelVersionInfo", "RegistryBackend", "RegistryUnavailable", "VersionNotFound",
    "open_registry", "registry_url", "split_reference",
]


def registry_url(endpoints: Endpoints, settings: dict | None = None) -> str:
    return (settings or {}).get("registryUrl") or endpoints.url("model-registry")


def open_registry(name: str | None, url: str, settings: dict | None = None) -> RegistryBackend:
    """The backend `name` (an `mlplatform.registries` entry point; mlflow by default) for the registry at `url`."""
    backend = plugins.load("mlplatform.registries", name or DEFAULT_REGISTRY)
    return backend(url, settings or {})
