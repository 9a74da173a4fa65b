"""A registry kept in one JSON file (url file:///path/registry.json): small, but a full backend."""

import json
from pathlib import Path

from mlplatform.errors import ConfigError
from mlplatform.registries import ModelVersionInfo, RegistryBackend, VersionNotFound


class JsonFileRegistry(RegistryBackend):
    name = "jsonfile"

    @property
    def path(self) -> Path:
        return Path(self.url.removeprefix("file://"))

    def _load(self) -> dict:
        return json.loads(self.path.read_text()) if self.path.exists() else {}

    def _save(self, data: dict) -> None:
        self.path.write_text(json.dumps(data, indent=2, sort_keys=True))

    def _model(self, data: dict, name: str) -> dict:
        if name not in data:
            raise VersionNotFound(f"model {name}: not found in {self.describe()}")
        return data[name]

    def ping(self) -> None:
        self._load()

    def ensure_model(self, name, *, description="", tags=None):
        data = self._load()
        model = data.setdefault(name, {"versions": [], "aliases": {}, "tags": {}})
        model["tags"].update(tags or {})
        model["description"] = description or model.get("description", "")
        self._save(data)

    def ensure_version(self, model, *, source, label=None, tags=None):
        data = self._load()
        entry = self._model(data, model)
        for version in entry["versions"]:
            if (label and version["label"] == label) or (not label and version["source"] == source):
                if version["source"] != source:
                    raise ConfigError(f"model {model} v{label}: already registered with source {version['source']}")
                return self.get_version(model, version["version"])
        entry["versions"].append({"version": str(len(entry["versions"]) + 1), "source": source, "label": label,
                                  "tags": dict(tags or {})})
        self._save(data)
        return self.get_version(model, entry["versions"][-1]["version"])

    def set_alias(self, model, alias, version):
        data = self._load()
        self._model(data, model)["aliases"][alias] = version
        self._save(data)

    def tag_version(self, model, version, tags):
        data = self._load()
        next(v for v in self._model(data, model)["versions"] if v["version"] == version)["tags"].update(tags)
        self._save(data)

    def get_version(self, model, version):
        entry = self._model(self._load(), model)
        for found in entry["versions"]:
            if found["version"] == version:
                aliases = tuple(sorted(a for a, v in entry["aliases"].items() if v == version))
                return ModelVersionInfo(model, version, found["source"], found["label"], aliases, found["tags"])
        raise VersionNotFound(f"model {model} version {version}: not found in {self.describe()}")

    def get_alias(self, model, alias):
        entry = self._model(self._load(), model)
        if alias not in entry["aliases"]:
            raise VersionNotFound(f"model {model} alias @{alias}: not found in {self.describe()}")
        return self.get_version(model, entry["aliases"][alias])

    def list_versions(self, model):
        data = self._load()
        return [self.get_version(model, v["version"]) for v in data.get(model, {}).get("versions", [])]
