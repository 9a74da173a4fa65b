"""Fetch a model's artifacts into an MLServer model directory, with the model-settings.json that serves them.

Sources:
  models:/<name>/<version>, models:/<name>@<alias>   resolved in the MLflow registry (MLFLOW_TRACKING_URI)
  s3://<bucket>/<prefix>                              copied from S3 (MLP_S3_ENDPOINT, AWS_* credentials)

A registered version's source is usually an s3:// directory (what the register hook registers); any
other artifact URI (mlflow-artifacts:/, runs:/, a logged model) is downloaded through MLflow.
The directory is filled beside `dest` and swapped in when complete, so a reader never sees half a model.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

from mlplatform.errors import ConfigError, DependencyError
from mlplatform.s3 import s3_client, split_uri

DEFAULT_IMPLEMENTATION = "mlserver_sklearn.SKLearnModel"
SETTINGS_FILE = "model-settings.json"


@dataclass(frozen=True)
class ModelSource:
    """Where a model URI's artifacts are: `location` is s3://... or an MLflow artifact URI."""

    uri: str
    location: str
    version: str | None = None     # the registry version a models:/ URI resolved to


@dataclass(frozen=True)
class SourceAccess:
    """How to reach the sources: the MLflow tracking server and the S3 endpoint (None: the environment)."""

    tracking_uri: str | None = None
    s3_endpoint: str | None = None
    s3_credentials: dict | None = None


def resolve(uri: str, access: SourceAccess = SourceAccess()) -> ModelSource:
    """The artifact location of a model URI; a registry reference that does not resolve is a ConfigError."""
    if uri.startswith("s3://"):
        return ModelSource(uri=uri, location=uri)
    if uri.startswith("models:/"):
        return _resolve_registered(uri, access)
    raise ConfigError(f"model URI {uri!r}: expected models:/<name>/<version>, models:/<name>@<alias> or s3://bucket/prefix")


def _resolve_registered(uri: str, access: SourceAccess) -> ModelSource:
    from mlplatform.registries import VersionNotFound, open_registry

    tracking_uri = access.tracking_uri or os.environ.get("MLFLOW_TRACKING_URI")
    if not tracking_uri:
        raise ConfigError(f"{uri}: no model registry to resolve it in (set MLFLOW_TRACKING_URI)")
    try:
        info = open_registry("mlflow", tracking_uri).resolve(uri)
    except VersionNotFound as error:
        raise ConfigError(f"{uri}: {error}") from None
    return ModelSource(uri=uri, location=info.source, version=info.version)


def fetch(source: ModelSource, dest: Path, *, name: str, implementation: str = DEFAULT_IMPLEMENTATION,
          access: SourceAccess = SourceAccess()) -> Path:
    """Download `source` into `dest` (replacing what is there) and write its model-settings.json."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.fetching-", dir=dest.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; a model directory is readable like any other
    try:
        if source.location.startswith("s3://"):
            _download_s3(source.location, staging, access)
        else:
            _download_mlflow(source.location, staging, access)
        write_model_settings(staging, name=name, implementation=implementation)
        _swap_in(staging, dest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return dest


def fetch_model(uri: str, dest: Path, *, name: str | None = None, implementation: str = DEFAULT_IMPLEMENTATION,
                access: SourceAccess = SourceAccess()) -> ModelSource:
    """Resolve and fetch in one step: what `mlp model fetch` does. The model name defaults to dest's name."""
    source = resolve(uri, access)
    fetch(source, dest, name=name or Path(dest).name, implementation=implementation, access=access)
    return source


def write_model_settings(directory: Path, *, name: str, implementation: str) -> None:
    """The same settings the model-server chart mounts: the runtime finds its model file in the directory."""
    settings = {"name": name, "implementation": implementation, "parameters": {"uri": "./"}}
    (directory / SETTINGS_FILE).write_text(json.dumps(settings, indent=2) + "\n")


def _download_s3(location: str, target: Path, access: SourceAccess) -> None:
    bucket, prefix = split_uri(location)
    s3 = s3_client(access.s3_endpoint, credentials=access.s3_credentials)
    where = s3.meta.endpoint_url
    directory = prefix.rstrip("/") + "/" if prefix else ""
    try:
        keys = [item["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=directory)
                for item in page.get("Contents", []) if not item["Key"].endswith("/")]
        if not keys and prefix:   # a single object rather than a directory
            s3.head_object(Bucket=bucket, Key=prefix)
            keys = [prefix]
            directory = (prefix.rpartition("/")[0] + "/") if "/" in prefix else ""
        if not keys:
            raise ConfigError(f"{location}: no objects there (S3 at {where})")
        for key in keys:
            path = target / key[len(directory):]
            path.parent.mkdir(parents=True, exist_ok=True)
            s3.download_file(bucket, key, str(path))
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code in ("NoSuchBucket", "404", "NoSuchKey"):
            missing = f"bucket {bucket} does not exist" if code == "NoSuchBucket" else "no objects there"
            raise ConfigError(f"{location}: {missing} (S3 at {where})") from None
        raise DependencyError(f"{location}: S3 at {where} refused: {code or error}") from None
    except (EndpointConnectionError, BotoCoreError) as error:
        raise DependencyError(f"{location}: S3 at {where} did not answer ({type(error).__name__})") from None


def _download_mlflow(location: str, target: Path, access: SourceAccess) -> None:
    import mlflow.artifacts
    from mlflow.exceptions import MlflowException

    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")   # a log line per file, not a bar
    try:
        mlflow.artifacts.download_artifacts(artifact_uri=location, dst_path=str(target),
                                            tracking_uri=access.tracking_uri)
    except MlflowException as error:
        raise ConfigError(f"{location}: MLflow cannot download it: {str(error).splitlines()[0]}") from None


def _swap_in(staging: Path, dest: Path) -> None:
    if not dest.exists():
        staging.rename(dest)
        return
    retired = dest.parent / f".{dest.name}.retired"
    shutil.rmtree(retired, ignore_errors=True)
    dest.rename(retired)
    staging.rename(dest)
    shutil.rmtree(retired, ignore_errors=True)
