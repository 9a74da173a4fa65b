"""The `mlflow` registration backend: the MLflow tracking server's model registry, through MlflowClient.

MLflow numbers versions itself, so the values' `version` label is kept as the tag `mlplatform.version`
and is what makes a re-run find the version it created before.
"""

from __future__ import annotations

import os
from contextlib import contextmanager

from mlplatform.errors import ConfigError, MlpError
from mlplatform.registries.base import (
    LABEL_TAG,
    ModelVersionInfo,
    RegistryBackend,
    RegistryUnavailable,
    VersionNotFound,
)

# Our callers retry under a deadline; MLflow's own 7 retries with backoff would hide that deadline.
os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "15")

_UNAVAILABLE_CODES = {"INTERNAL_ERROR", "TEMPORARILY_UNAVAILABLE", "REQUEST_LIMIT_EXCEEDED"}


class MlflowRegistry(RegistryBackend):
    name = "mlflow"

    def __init__(self, url: str, settings: dict | None = None):
        super().__init__(url, settings)
        from mlflow.tracking import MlflowClient

        self.client = MlflowClient(tracking_uri=self.url, registry_uri=self.url)

    @contextmanager
    def _errors(self, what: str):
        """MLflow's exceptions -> ours, with `what` in the message."""
        from mlflow.exceptions import MlflowException

        try:
            yield
        except MlflowException as error:
            code = getattr(error, "error_code", "")
            message = str(error).splitlines()[0]
            # A missing alias comes back as INVALID_PARAMETER_VALUE "... alias x not found".
            if code == "RESOURCE_DOES_NOT_EXIST" or message.endswith("not found."):
                raise VersionNotFound(f"{what}: not found in {self.describe()}") from None
            if code in _UNAVAILABLE_CODES or message.startswith("API request to"):
                raise RegistryUnavailable(f"{self.describe()} did not answer ({what}): {_short(message)}") from None
            raise MlpError(f"{what}: {self.describe()} refused: {message}") from None

    def ping(self) -> None:
        with self._errors("list registered models"):
            self.client.search_registered_models(max_results=1)

    def ensure_model(self, name: str, *, description: str = "", tags: dict[str, str] | None = None) -> None:
        current = self._registered_model(name)
        with self._errors(f"model {name}"):
            if current is None:
                self.client.create_registered_model(name, tags=tags or None, description=description or None)
                return
            if description and current.description != description:
                self.client.update_registered_model(name, description=description)
            for key, value in (tags or {}).items():
                if current.tags.get(key) != value:
                    self.client.set_registered_model_tag(name, key, value)

    def _registered_model(self, name: str):
        try:
            with self._errors(f"model {name}"):
                return self.client.get_registered_model(name)
        except VersionNotFound:
            return None

    def ensure_version(self, model: str, *, source: str, label: str | None = None,
                       tags: dict[str, str] | None = None) -> ModelVersionInfo:
        what = f"model {model} {('v' + label) if label else source}"
        existing = self._find_version(model, source=source, label=label)
        with self._errors(what):
            if existing is None:
                all_tags = {**(tags or {}), **({LABEL_TAG: label} if label else {})}
                created = self.client.create_model_version(model, source, tags=all_tags or None,
                                                           await_creation_for=60)
                return self._info(created)
            for key, value in (tags or {}).items():
                if existing.tags.get(key) != value:
                    self.client.set_model_version_tag(model, existing.version, key, value)
            return self._info(self.client.get_model_version(model, existing.version))

    def _find_version(self, model: str, *, source: str, label: str | None) -> ModelVersionInfo | None:
        for version in self.list_versions(model):
            if label and version.label == label:
                if version.source.rstrip("/") != source.rstrip("/"):
                    raise ConfigError(
                        f"model {model} v{label}: already registered as version {version.version} with source "
                        f"{version.source}, not {source} (versions are immutable: give the new source a new version)")
                return version
            if not label and version.source.rstrip("/") == source.rstrip("/"):
                return version
        return None

    def set_alias(self, model: str, alias: str, version: str) -> None:
        with self._errors(f"model {model} alias {alias}"):
            self.client.set_registered_model_alias(model, alias, version)

    def tag_version(self, model: str, version: str, tags: dict[str, str]) -> None:
        with self._errors(f"model {model} version {version}"):
            for key, value in tags.items():
                self.client.set_model_version_tag(model, version, key, value)

    def get_version(self, model: str, version: str) -> ModelVersionInfo:
        with self._errors(f"model {model} version {version}"):
            return self._info(self.client.get_model_version(model, version))

    def get_alias(self, model: str, alias: str) -> ModelVersionInfo:
        with self._errors(f"model {model} alias @{alias}"):
            return self._info(self.client.get_model_version_by_alias(model, alias))

    def list_versions(self, model: str) -> list[ModelVersionInfo]:
        with self._errors(f"versions of model {model}"):
            found = self.client.search_model_versions(f"name = '{model}'")
        return sorted((self._info(version) for version in found), key=lambda info: int(info.version))

    @staticmethod
    def _info(version) -> ModelVersionInfo:
        tags = dict(version.tags or {})
        return ModelVersionInfo(
            model=version.name,
            version=str(version.version),
            source=version.source,
            label=tags.get(LABEL_TAG),
            aliases=tuple(sorted(version.aliases or ())),
            tags=tags,
        )


def _short(message: str) -> str:
    """MLflow wraps a refused connection in a page of urllib3 text; keep the part a person needs."""
    for marker, short in (("Connection refused", "connection refused"), ("timed out", "timed out"),
                          ("Name or service not known", "host name does not resolve")):
        if marker in message:
            return short
    return message[:300]
