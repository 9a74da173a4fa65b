"""What a hook program knows about the release it runs for: the hooks.json the chart mounts, or local mode.

In a cluster the umbrella chart renders `hooks.json` (contracts §5) and sets MLP_HOOK_CONFIG to it. In
local mode the same shape is built from `<state-dir>/endpoints.json`, `<state-dir>/values.yaml` and any
`--values` files, so every hook runs unchanged against `mlp local up`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import click

from mlplatform import inputs
from mlplatform.cli.options import absolute_path, state_dir_option
from mlplatform.endpoints import Endpoints
from mlplatform.errors import ConfigError
from mlplatform.s3 import s3_client


@dataclass
class HookConfig:
    endpoints: Endpoints
    values: dict = field(default_factory=dict)
    release: str | None = None
    namespace: str | None = None
    chart_version: str | None = None

    @property
    def is_local(self) -> bool:
        return self.endpoints.platform == "local"

    def hook(self, name: str) -> dict:
        """The settings of one hook: `values.hooks.<name>` ({} when absent)."""
        return (self.values.get("hooks") or {}).get(name) or {}

    def s3(self):
        """An S3 client for the platform's S3 (MinIO, or moto locally)."""
        endpoint = self.endpoints.url("minio") if self.endpoints.has("minio") else None
        return s3_client(endpoint, credentials=self.endpoints.extra.get("s3"))

    @classmethod
    def read(cls, path: Path) -> HookConfig:
        try:
            data = json.loads(Path(path).read_text())
        except FileNotFoundError:
            raise ConfigError(f"hook config {path} not found (MLP_HOOK_CONFIG; the chart mounts it at "
                              "/etc/mlplatform/hooks.json)") from None
        except json.JSONDecodeError as error:
            raise ConfigError(f"hook config {path} is not valid JSON: {error}") from None
        if "endpoints" not in data:
            raise ConfigError(f"hook config {path}: no 'endpoints' key")
        return cls(
            endpoints=Endpoints.from_dict(data["endpoints"], source=f"{path}: endpoints"),
            values=data.get("values") or {},
            release=data.get("release"),
            namespace=data.get("namespace"),
            chart_version=data.get("chartVersion"),
        )

    @classmethod
    def local(cls, state_dir: Path, values_files: tuple[Path, ...] = ()) -> HookConfig:
        state_dir = Path(state_dir)
        endpoints = Endpoints.read(state_dir / "endpoints.json")
        release_values = state_dir / "values.yaml"
        values = read_values(release_values) if release_values.exists() else {}
        for path in values_files:
            values = merge_values(values, read_values(path))
        return cls(endpoints=endpoints, values=values, release=endpoints.release or "local",
                   namespace=endpoints.namespace)


VALUES_LIMITS = inputs.Limits(max_bytes=8 * inputs.MiB)


def read_values(path: Path) -> dict:
    """A values file a user gives, within mlplatform.inputs' limits (size, aliases, depth)."""
    try:
        data = inputs.load_yaml(Path(path).read_bytes(), VALUES_LIMITS, what=f"values file {path}") or {}
    except FileNotFoundError:
        raise ConfigError(f"values file {path} not found") from None
    except inputs.InputRejected as error:
        raise ConfigError(str(error)) from None
    if not isinstance(data, dict):
        raise ConfigError(f"values file {path}: the top level must be a mapping")
    return data


def merge_values(base: dict, override: dict) -> dict:
    """Helm's rule: mappings merge key by key, everything else (lists included) is replaced."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_values(merged[key], value)
        else:
            merged[key] = value
    return merged


def config_options(command):
    """The options every hook program takes to find its config."""
    options = [
        click.option("--config", "config_path", type=absolute_path(dir_okay=False), envvar="MLP_HOOK_CONFIG",
                     help="hooks.json of the release (default: $MLP_HOOK_CONFIG)."),
        click.option("--local", is_flag=True, help="Run against local mode (`mlp local up`) instead."),
        state_dir_option(),
        click.option("--values", "values_files", type=absolute_path(dir_okay=False), multiple=True,
                     help="Values files merged over the release values (local mode), in order."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def load_config(config_path: Path | None, local: bool, state_dir: Path, values_files: tuple[Path, ...]) -> HookConfig:
    if local:
        return HookConfig.local(state_dir, values_files)
    if config_path is None:
        raise ConfigError("no hook config: set MLP_HOOK_CONFIG or --config, or use --local for local mode")
    config = HookConfig.read(config_path)
    for path in values_files:
        config.values = merge_values(config.values, read_values(path))
    return config


def hook_namespace(config: HookConfig) -> str:
    return config.namespace or os.environ.get("POD_NAMESPACE") or "default"
