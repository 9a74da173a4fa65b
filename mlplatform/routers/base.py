"""The router interface (contracts §9) and what the built-in routers share.

A router is built from the model server's values (`modelServer`: `router`, `canary`, `replicaCount`)
and a RouterContext. `get_weight()` reads the split the routing layer serves now; `set_weight(w)`
makes it `w` percent to the canary. In a Helm release the chart renders the built-in routers' objects
from `modelServer.canary.weight`, so a rollout changes the weight with `helm upgrade` and confirms it
with `get_weight()`; `set_weight` serves local mode and routers the chart does not render.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlplatform import plugins
from mlplatform.errors import ConfigError, DependencyError

GROUP = "mlplatform.routers"
COMPONENT = "model-server"
NAME_LIMIT = 63


@dataclass(frozen=True)
class RouterContext:
    """Where the router acts: a release (namespace, Kubernetes ApiClient) or a local-mode state dir."""

    release: str | None = None
    namespace: str = "default"
    api_client: Any = None          # kubernetes.client.ApiClient
    state_dir: Path | None = None


class Router(ABC):
    """Reads and sets the percent of model-server traffic that goes to the canary track."""

    name: str = "router"

    def __init__(self, values: dict, context: RouterContext):
        self.values = values or {}
        self.context = context

    @abstractmethod
    def get_weight(self) -> int:
        """The canary's share (0-100) that the routing layer serves now."""

    @abstractmethod
    def set_weight(self, weight: int) -> None:
        """Make the live split `weight` percent to the canary."""

    def achievable_weight(self, weight: int) -> int:
        """The split `set_weight(weight)` produces: `weight` itself, except where the router rounds."""
        return check_weight(weight)

    def settings(self) -> dict:
        """This router's own values: `router.<type>` (e.g. router.gatewayApi)."""
        return (self.values.get("router") or {}).get(self.settings_key, {}) or {}

    settings_key: str = ""


class KubernetesRouter(Router):
    """A router that edits objects of a Helm release through the Kubernetes API."""

    def __init__(self, values: dict, context: RouterContext):
        super().__init__(values, context)
        if context.api_client is None or not context.release:
            raise ConfigError(f"router {self.name} needs a release and a Kubernetes API client")

    def object_name(self, track: str | None = None) -> str:
        """The chart's object names: <release>-model-server[-stable|-canary] (mlplatform-lib.componentName)."""
        if track is None:
            return join(self.context.release, COMPONENT)
        return join(f"{self.context.release}-{COMPONENT}", track)

    @property
    def namespace(self) -> str:
        return self.context.namespace

    @contextmanager
    def kubernetes(self, what: str, missing: str = ""):
        """Kubernetes API errors -> ours: a missing object is a ConfigError (`missing` says why it
        may be absent), anything else a DependencyError naming `what`."""
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import HTTPError

        try:
            yield
        except ApiException as error:
            if error.status == 404:
                raise ConfigError(f"{what}: not found in namespace {self.namespace}{missing}") from None
            raise DependencyError(f"{what}: the Kubernetes API answered HTTP {error.status} {error.reason}") from None
        except HTTPError as error:
            raise DependencyError(f"{what}: the Kubernetes API did not answer ({type(error).__name__})") from None


def join(prefix: str, suffix: str) -> str:
    """<prefix>-<suffix> in at most 63 characters, cutting the prefix (mlplatform-lib.join)."""
    cut = prefix[: NAME_LIMIT - 1 - len(suffix)]
    return f"{cut.removesuffix('-')}-{suffix}"


def check_weight(weight: int) -> int:
    if isinstance(weight, bool) or not isinstance(weight, int) or not 0 <= weight <= 100:
        raise ConfigError(f"canary weight must be an integer from 0 to 100, not {weight!r}")
    return weight


def percent(part: float, total: float) -> int:
    return round(100 * part / total) if total > 0 else 0


def open_router(values: dict, context: RouterContext) -> Router:
    """The router `values.router.type` names (an `mlplatform.routers` entry point), built for `context`."""
    router_type = (values.get("router") or {}).get("type") or "replicas"
    return plugins.load(GROUP, router_type)(values, context)


class CustomResourceRouter(KubernetesRouter):
    """A router whose split lives in one custom object of the release, named <release>-model-server."""

    group = version = plural = kind = ""
    router_type = ""          # the modelServer.router.type that makes the chart render the object

    def read_object(self) -> dict:
        missing = f" (the chart renders it when modelServer.router.type is {self.router_type})"
        with self.kubernetes(self.describe_object(), missing=missing):
            return self._custom_objects().get_namespaced_custom_object(
                self.group, self.version, self.namespace, self.plural, self.object_name())

    def replace_object(self, body: dict) -> None:
        """Write the object back; its resourceVersion makes a concurrent change fail instead of being lost."""
        with self.kubernetes(self.describe_object()):
            self._custom_objects().replace_namespaced_custom_object(
                self.group, self.version, self.namespace, self.plural, self.object_name(), body)

    def describe_object(self) -> str:
        return f"{self.kind} {self.object_name()}"

    def _custom_objects(self):
        from kubernetes import client

        return client.CustomObjectsApi(self.context.api_client)
