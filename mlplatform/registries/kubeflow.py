"""The `kubeflow-model-registry` backend: Kubeflow Model Registry through its Python client (`model-registry`).

Kubeflow names versions, so the values' `version` label is the version name; without one, versions are
numbered 1, 2, ... Kubeflow has no aliases: they are custom properties of the registered model
(`mlplatform.alias.<alias>` = version name), so moving an alias is one update.
Install the client with `pip install 'mlplatform[kubeflow-registry]'`.
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager

from mlplatform.errors import ConfigError, DependencyError, MlpError
from mlplatform.registries.base import (
    LABEL_TAG,
    ModelVersionInfo,
    RegistryBackend,
    RegistryUnavailable,
    VersionNotFound,
)

ALIAS_PREFIX = "mlplatform.alias."
SOURCE_PROPERTY = "mlplatform.source"


class KubeflowModelRegistry(RegistryBackend):
    name = "kubeflow-model-registry"

    def __init__(self, url: str, settings: dict | None = None):
        super().__init__(url, settings)
        self._client = None

    @property
    def client(self):
        """The client connects (and checks the server) when it is built, so build it on first use."""
        if self._client is None:
            try:
                from model_registry import ModelRegistry
            except ImportError:
                raise DependencyError("the kubeflow-model-registry backend needs its client: "
                                      "pip install 'mlplatform[kubeflow-registry]'") from None
            with self._errors("connect"), warnings.catch_warnings():
                warnings.simplefilter("ignore")  # "User access token is missing": a token is optional in-cluster
                self._client = ModelRegistry(self.url, author=self.settings.get("author", "mlplatform"),
                                             is_secure=self.url.startswith("https://"),
                                             user_token=self.settings.get("token"))
        return self._client

    @contextmanager
    def _errors(self, what: str):
        import aiohttp
        from model_registry.exceptions import StoreError
        from mr_openapi.exceptions import ApiException, NotFoundException

        try:
            yield
        except (aiohttp.ClientError, ConnectionError, TimeoutError) as error:
            raise RegistryUnavailable(f"{self.describe()} did not answer ({what}): {error}") from None
        except NotFoundException:
            raise VersionNotFound(f"{what}: not found in {self.describe()}") from None
        except ApiException as error:
            if (error.status or 0) >= 500:
                raise RegistryUnavailable(f"{self.describe()} answered HTTP {error.status} ({what})") from None
            raise MlpError(f"{what}: {self.describe()} refused: HTTP {error.status} {error.body}") from None
        except StoreError as error:
            raise VersionNotFound(f"{what}: {error}") from None

    def ping(self) -> None:
        with self._errors("list registered models"):
            self.client.get_registered_models().page_size(1)._next_page()

    def _model(self, name: str):
        with self._errors(f"model {name}"):
            model = self.client.get_registered_model(name)
        if model is None:
            raise VersionNotFound(f"model {name}: not found in {self.describe()}")
        return model

    def ensure_model(self, name: str, *, description: str = "", tags: dict[str, str] | None = None) -> None:
        with self._errors(f"model {name}"):
            model = self.client.get_registered_model(name)
            if model is None:
                from model_registry.types import RegisteredModel

                model = RegisteredModel(name=name, owner=self.settings.get("author", "mlplatform"))
            properties = {**(model.custom_properties or {}), **(tags or {})}
            if model.id and properties == (model.custom_properties or {}) and \
                    (not description or model.description == description):
                return
            model.custom_properties = properties
            if description:
                model.description = description
            if model.id:
                self.client.update(model)
            else:
                # The client's public calls create a model only together with a version; its API layer can do it alone.
                self.client.async_runner(self.client._api.upsert_registered_model(model))

    def ensure_version(self, model: str, *, source: str, label: str | None = None,
                       tags: dict[str, str] | None = None) -> ModelVersionInfo:
        what = f"model {model} {('v' + label) if label else source}"
        existing = self._find_version(model, source=source, label=label)
        if existing is None:
            name = label or str(len(self._versions_or_empty(model)) + 1)
            properties = {**(tags or {}), SOURCE_PROPERTY: source, **({LABEL_TAG: label} if label else {})}
            with self._errors(what):
                self.client.register_model(
                    model, source, version=name, metadata=properties,
                    model_format_name=(tags or {}).get("model_format", "unknown"),
                    model_format_version=(tags or {}).get("model_format_version", "1"),
                )
            return self.get_version(model, name)
        missing = {key: value for key, value in (tags or {}).items() if existing.tags.get(key) != value}
        if missing:
            self.tag_version(model, existing.version, missing)
        return self.get_version(model, existing.version)

    def _find_version(self, model: str, *, source: str, label: str | None) -> ModelVersionInfo | None:
        for version in self._versions_or_empty(model):
            if label and version.version == label:
                if version.source.rstrip("/") != source.rstrip("/"):
                    raise ConfigError(
                        f"model {model} v{label}: already registered with source {version.source}, not {source} "
                        "(versions are immutable: give the new source a new version)")
                return version
            if not label and version.source.rstrip("/") == source.rstrip("/"):
                return version
        return None

    def _versions_or_empty(self, model: str) -> list[ModelVersionInfo]:
        try:
            return self.list_versions(model)
        except VersionNotFound:
            return []

    def set_alias(self, model: str, alias: str, version: str) -> None:
        self.get_version(model, version)  # an alias must point at a version that exists
        registered = self._model(model)
        key = ALIAS_PREFIX + alias
        if (registered.custom_properties or {}).get(key) == version:
            return
        registered.custom_properties = {**(registered.custom_properties or {}), key: version}
        with self._errors(f"model {model} alias {alias}"):
            self.client.update(registered)

    def tag_version(self, model: str, version: str, tags: dict[str, str]) -> None:
        with self._errors(f"model {model} version {version}"):
            found = self.client.get_model_version(model, version)
            if found is None:
                raise VersionNotFound(f"model {model} version {version}: not found in {self.describe()}")
            found.custom_properties = {**(found.custom_properties or {}), **tags}
            self.client.update(found)

    def _artifact_uri(self, model: str, version: str) -> str:
        """The model artifact's URI, for versions registered without the platform's source property."""
        with self._errors(f"model {model} version {version} artifact"):
            artifact = self.client.get_model_artifact(model, version)
        return (artifact.uri or "") if artifact else ""

    def get_version(self, model: str, version: str) -> ModelVersionInfo:
        registered = self._model(model)
        with self._errors(f"model {model} version {version}"):
            found = self.client.get_model_version(model, version)
        if found is None:
            raise VersionNotFound(f"model {model} version {version}: not found in {self.describe()}")
        return self._info(registered, found)

    def get_alias(self, model: str, alias: str) -> ModelVersionInfo:
        version = (self._model(model).custom_properties or {}).get(ALIAS_PREFIX + alias)
        if version is None:
            raise VersionNotFound(f"model {model} alias @{alias}: not found in {self.describe()}")
        return self.get_version(model, str(version))

    def list_versions(self, model: str) -> list[ModelVersionInfo]:
        registered = self._model(model)
        with self._errors(f"versions of model {model}"):
            versions = list(self.client.get_model_versions(model))
        return [self._info(registered, version) for version in versions]

    def _info(self, registered, version) -> ModelVersionInfo:
        properties = {key: str(value) for key, value in (version.custom_properties or {}).items()}
        source = properties.get(SOURCE_PROPERTY) or self._artifact_uri(registered.name, version.name)
        aliases = tuple(sorted(
            key[len(ALIAS_PREFIX):] for key, value in (registered.custom_properties or {}).items()
            if key.startswith(ALIAS_PREFIX) and str(value) == version.name
        ))
        return ModelVersionInfo(
            model=registered.name,
            version=version.name,
            source=source,
            label=properties.get(LABEL_TAG),
            aliases=aliases,
            tags=properties,
        )
