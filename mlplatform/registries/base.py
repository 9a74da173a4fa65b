"""The interface every registration backend (`mlplatform.registries` plugin) implements.

A backend is built with the registry's base URL and the register hook's settings. Every write is
idempotent: running the same registration twice leaves the same state and no duplicate versions.
A backend raises RegistryUnavailable when the registry does not answer (callers retry those),
VersionNotFound when a model, version or alias does not exist, and ConfigError for a conflict
that waiting will not fix.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

from mlplatform.errors import DependencyError, MlpError

# Tag keys the platform writes onto versions.
LABEL_TAG = "mlplatform.version"          # the values' `version` label, where the backend numbers versions itself
OUTCOME_TAG = "mlplatform.outcome"        # promoted | aborted | failed-analysis ... (canary rollouts)
OUTCOME_DETAIL_TAG = "mlplatform.outcome.detail"
ANALYSIS_TAG = "mlplatform.canary.analysis"  # passed | failed: the last canary analysis of this version
ANALYSIS_DETAIL_TAG = "mlplatform.canary.analysis.detail"


class RegistryUnavailable(DependencyError):
    """The registry did not answer, or answered 5xx: worth retrying."""


class VersionNotFound(MlpError):
    """A model, version or alias that the registry does not have."""


@dataclass(frozen=True)
class ModelVersionInfo:
    """One registered version, the same shape from every backend."""

    model: str
    version: str                      # the backend's identifier: MLflow's number, Kubeflow's version name
    source: str                       # the artifact location (s3://..., https://...)
    label: str | None = None          # the values' `version` label, when one was given
    aliases: tuple[str, ...] = ()
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def uri(self) -> str:
        """The `models:/` URI that names this version."""
        return f"models:/{self.model}/{self.version}"


def split_reference(reference: str) -> tuple[str, str | None, str | None]:
    """`fraud/3` -> ("fraud", "3", None); `fraud@champion` -> ("fraud", None, "champion").

    A leading `models:/` is accepted, so a served model's URI resolves as it is written in values.
    """
    body = reference.removeprefix("models:/")
    if "@" in body:
        model, _, alias = body.partition("@")
        if model and alias:
            return model, None, alias
    else:
        model, _, version = body.partition("/")
        if model and version and "/" not in version:
            return model, version, None
    raise VersionNotFound(f"{reference!r} is not a model reference (expected <model>/<version> or <model>@<alias>)")


class RegistryBackend(ABC):
    """A model registry the platform registers into and resolves from."""

    #: the entry point name, for messages
    name: str = "registry"

    def __init__(self, url: str, settings: dict | None = None):
        self.url = url.rstrip("/")
        self.settings = settings or {}

    @abstractmethod
    def ping(self) -> None:
        """Return when the registry answers; raise RegistryUnavailable otherwise."""

    @abstractmethod
    def ensure_model(self, name: str, *, description: str = "", tags: dict[str, str] | None = None) -> None:
        """Create the registered model, or bring its description and tags up to date."""

    @abstractmethod
    def ensure_version(self, model: str, *, source: str, label: str | None = None,
                       tags: dict[str, str] | None = None) -> ModelVersionInfo:
        """The version of `model` with this label (or, without one, this source); created if absent.

        A label that already names a version with another source is a ConfigError: versions are immutable.
        """

    @abstractmethod
    def set_alias(self, model: str, alias: str, version: str) -> None:
        """Point `alias` at `version` (moving it from any other version)."""

    @abstractmethod
    def tag_version(self, model: str, version: str, tags: dict[str, str]) -> None:
        """Set tags on a version (existing keys are overwritten)."""

    @abstractmethod
    def get_version(self, model: str, version: str) -> ModelVersionInfo:
        """A version by its identifier; VersionNotFound when absent."""

    @abstractmethod
    def get_alias(self, model: str, alias: str) -> ModelVersionInfo:
        """The version an alias points at; VersionNotFound when absent."""

    @abstractmethod
    def list_versions(self, model: str) -> list[ModelVersionInfo]:
        """Every version of `model`, oldest first; empty when the model does not exist."""

    def resolve(self, reference: str) -> ModelVersionInfo:
        """`fraud/3`, `fraud@champion` or `models:/fraud/3` -> the version it names."""
        model, version, alias = split_reference(reference)
        return self.get_alias(model, alias) if alias else self.get_version(model, version)

    def record_outcome(self, model: str, version: str, outcome: str, detail: str = "") -> None:
        """Tag a version with the outcome of a rollout (promoted, aborted, ...) and why."""
        self.tag_version(model, version, {OUTCOME_TAG: outcome, OUTCOME_DETAIL_TAG: detail})

    def describe(self) -> str:
        return f"{self.name} registry at {self.url}"
