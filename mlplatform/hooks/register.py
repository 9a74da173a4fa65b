"""`mlp hook register`: buckets, models, pipelines and experiments declared in values, made to exist.

Runs as the post-install/post-upgrade hook (contracts §5, §6 `hooks.register`). Idempotent: a second
run changes nothing and creates no duplicate version. Every item retries with backoff while its
service does not answer, all under one deadline; the run goes on past a failed item and ends with
every failure named ("model fraud v3: source s3://models/fraud/3 not found"). Exit codes: 0 all
done, 2 values at fault (a missing source, a version label reused), 3 a service did not answer, 1 other.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import botocore.exceptions
import click
import requests
import urllib3.exceptions

from mlplatform.auth.token_file import TokenFile
from mlplatform.errors import ConfigError, DependencyError, MlpError
from mlplatform.hooks.config import HookConfig, config_options, hook_namespace, load_config
from mlplatform.hooks.pipelines import api_error_line, caller_token, kfp_client
from mlplatform.registries import (
    RegistryBackend,
    RegistryUnavailable,
    VersionNotFound,
    open_registry,
    registry_url,
)
from mlplatform.retry import retry
from mlplatform.s3 import split_uri

DEFAULT_DEADLINE_SECONDS = 600.0


class ServiceUnavailable(DependencyError):
    """A service answered 5xx or not at all: worth retrying."""


TRANSIENT = (
    RegistryUnavailable,
    ServiceUnavailable,
    botocore.exceptions.EndpointConnectionError,
    botocore.exceptions.ConnectionClosedError,
    botocore.exceptions.ReadTimeoutError,
    requests.ConnectionError,
    requests.Timeout,
    urllib3.exceptions.HTTPError,
)


@dataclass
class Outcome:
    item: str
    done: str = ""                     # what happened: "created", "exists", ...
    error: str | None = None           # the one line naming the item and the cause
    exit_code: int = 0                 # the error's kind (mlplatform.errors)


@dataclass
class Registration:
    """One run of the register hook: the config, one deadline, and what happened to each item."""

    config: HookConfig
    deadline_seconds: float = DEFAULT_DEADLINE_SECONDS
    echo: Callable[[str], None] = print
    outcomes: list[Outcome] = field(default_factory=list)
    _started: float = field(default_factory=time.monotonic)

    @property
    def settings(self) -> dict:
        return self.config.hook("register")

    def remaining(self) -> float:
        return max(0.0, self.deadline_seconds - (time.monotonic() - self._started))

    def attempt(self, item: str, operation: Callable[[], str]) -> bool:
        """Run `operation` for `item` with retries under the run's deadline; record and print its outcome."""
        def report_retry(attempt: int, error: BaseException, pause: float) -> None:
            self.echo(f"  {item}: {error} (attempt {attempt}, retrying in {pause:.1f}s)")

        try:
            done = retry(operation, what=item, deadline_seconds=round(self.remaining(), 1), retry_on=TRANSIENT,
                         on_retry=report_retry)
        except MlpError as error:
            message = str(error) if str(error).startswith(item) else f"{item}: {error}"
            self.outcomes.append(Outcome(item, error=message, exit_code=error.exit_code))
            self.echo(f"FAIL {message}")
            return False
        self.outcomes.append(Outcome(item, done=done))
        self.echo(f"ok   {item}: {done}")
        return True

    # -- buckets ----------------------------------------------------------------------------------

    def create_buckets(self) -> None:
        buckets = self.settings.get("buckets") or []
        if not buckets:
            return
        s3 = self.config.s3()
        for bucket in buckets:
            self.attempt(f"bucket {bucket}", lambda bucket=bucket: ensure_bucket(s3, bucket))

    # -- models -----------------------------------------------------------------------------------

    def register_models(self) -> None:
        models = self.settings.get("models") or []
        if not models:
            return
        registry = open_registry(self.settings.get("registry"), registry_url(self.config.endpoints, self.settings),
                                 self.settings)
        for model in models:
            name = model["name"]
            if not self.attempt(f"model {name}", lambda model=model: self._ensure_model(registry, model)):
                continue
            for index, version in enumerate(model.get("versions") or [], start=1):
                label = version.get("version")
                item = f"model {name} v{label}" if label else f"model {name} version #{index}"
                self.attempt(item, lambda name=name, version=version: self._ensure_version(registry, name, version))

    def _ensure_model(self, registry: RegistryBackend, model: dict) -> str:
        registry.ensure_model(model["name"], description=model.get("description") or "", tags=model.get("tags") or {})
        return f"in {registry.describe()}"

    def _ensure_version(self, registry: RegistryBackend, model: str, version: dict) -> str:
        source = version["source"]
        self._require_source(registry, source)
        info = registry.ensure_version(model, source=source, label=version.get("version"), tags=version.get("tags") or {})
        for alias in version.get("aliases") or []:
            registry.set_alias(model, alias, info.version)
        aliases = version.get("aliases") or []
        return f"version {info.version} ({source})" + (f", aliases {', '.join(aliases)}" if aliases else "")

    def _require_source(self, registry: RegistryBackend, source: str) -> None:
        if source.startswith("s3://"):
            found = s3_prefix_exists(self.config.s3(), source)
        elif source.startswith("models:/"):
            try:
                registry.resolve(source)
                found = True
            except VersionNotFound:
                found = False
        else:
            found = url_exists(source)
        if not found:
            raise ConfigError(f"source {source} not found")

    # -- pipelines --------------------------------------------------------------------------------

    def upload_pipelines(self) -> None:
        pipelines = self.settings.get("pipelines") or []
        if not pipelines:
            return
        host = self.config.endpoints.url("pipeline-controller")
        token = caller_token(self.config.values, "pipelineController")
        namespace = hook_namespace(self.config) if token else None   # multi-user: the release's namespace
        for pipeline in pipelines:
            label = pipeline.get("version")
            item = f"pipeline {pipeline['name']}" + (f" {label}" if label else "")
            self.attempt(item, lambda pipeline=pipeline: self._upload_pipeline(host, pipeline, token, namespace))

    def _upload_pipeline(self, host: str, pipeline: dict, token: TokenFile | None, namespace: str | None) -> str:
        package = self._read_source(pipeline["source"])
        version = pipeline.get("version") or "sha-" + hashlib.sha256(package).hexdigest()[:12]
        return upload_pipeline_version(host, pipeline["name"], version, package, pipeline.get("description") or "",
                                       token=token, namespace=namespace)

    def _read_source(self, source: str) -> bytes:
        if source.startswith("s3://"):
            bucket, key = split_uri(source)
            try:
                return self.config.s3().get_object(Bucket=bucket, Key=key)["Body"].read()
            except botocore.exceptions.ClientError as error:
                if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "NoSuchBucket", "404"):
                    raise ConfigError(f"source {source} not found") from None
                raise
        response = requests.get(source, timeout=30)
        if response.status_code == 404:
            raise ConfigError(f"source {source} not found")
        if response.status_code >= 500:
            raise ServiceUnavailable(f"{source} answered HTTP {response.status_code}")
        response.raise_for_status()
        return response.content

    # -- experiments ------------------------------------------------------------------------------

    def submit_experiments(self) -> None:
        experiments = self.settings.get("experiments") or []
        if not experiments:
            return
        base = self.config.endpoints.url("tuning-service")
        token = caller_token(self.config.values, "tuningService")
        for experiment in experiments:
            name = (experiment.get("metadata") or {}).get("name", "?")
            self.attempt(f"experiment {name}",
                         lambda experiment=experiment: submit_experiment(base, experiment, token))

    # -- the run ----------------------------------------------------------------------------------

    def run(self) -> list[Outcome]:
        self.create_buckets()
        self.register_models()
        self.upload_pipelines()
        self.submit_experiments()
        return self.outcomes

    @property
    def failures(self) -> list[Outcome]:
        return [outcome for outcome in self.outcomes if outcome.error is not None]

    def exit_code(self) -> int:
        codes = {outcome.exit_code for outcome in self.failures}
        if not codes:
            return 0
        if DependencyError.exit_code in codes:
            return DependencyError.exit_code
        return ConfigError.exit_code if codes == {ConfigError.exit_code} else 1


def ensure_bucket(s3, bucket: str) -> str:
    try:
        s3.head_bucket(Bucket=bucket)
        return "exists"
    except botocore.exceptions.ClientError as error:
        if error.response.get("Error", {}).get("Code") not in ("404", "NoSuchBucket", "NotFound"):
            raise _s3_error(error) from None
    try:
        s3.create_bucket(Bucket=bucket)
    except botocore.exceptions.ClientError as error:
        # Another writer (a second hook pod, a person) made it in between: the state we want.
        if error.response.get("Error", {}).get("Code") in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
            return "exists"
        raise _s3_error(error) from None
    return "created"


def _s3_error(error: botocore.exceptions.ClientError) -> MlpError:
    code = error.response.get("Error", {}).get("Code", "?")
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    if status >= 500:
        return ServiceUnavailable(f"S3 answered {code} (HTTP {status})")
    return MlpError(f"S3 refused: {code}: {error.response.get('Error', {}).get('Message', '')}")


def s3_prefix_exists(s3, uri: str) -> bool:
    """Whether `uri` names an object or a non-empty directory."""
    bucket, key = split_uri(uri)
    try:
        listing = s3.list_objects_v2(Bucket=bucket, Prefix=key.rstrip("/"), MaxKeys=20)
    except botocore.exceptions.ClientError as error:
        if error.response.get("Error", {}).get("Code") == "NoSuchBucket":
            return False
        raise _s3_error(error) from None
    prefix = key.rstrip("/")
    return any(item["Key"] == prefix or item["Key"].startswith(prefix + "/") for item in listing.get("Contents", []))


def url_exists(url: str) -> bool:
    response = requests.head(url, timeout=15, allow_redirects=True)
    if response.status_code >= 500:
        raise ServiceUnavailable(f"{url} answered HTTP {response.status_code}")
    return response.status_code < 400


def upload_pipeline_version(host: str, name: str, version: str, package: bytes, description: str = "",
                            token: TokenFile | None = None, namespace: str | None = None) -> str:
    """Make pipeline `name` have version `version` on the pipeline controller (kfp.Client); with `token` (a
    multi-user controller), in `namespace`."""
    import tempfile

    from kfp_server_api.exceptions import ApiException

    try:
        client = kfp_client(host, token)
        with tempfile.NamedTemporaryFile(suffix=".yaml") as handle:
            handle.write(package)
            handle.flush()
            pipeline_id = _pipeline_id(client, name, namespace)
            if pipeline_id is None:
                pipeline_id = client.upload_pipeline(handle.name, pipeline_name=name, description=description or None,
                                                     namespace=namespace).pipeline_id
            if version in _pipeline_version_names(client, pipeline_id):
                return f"version {version} exists"
            client.upload_pipeline_version(handle.name, pipeline_version_name=version, pipeline_id=pipeline_id,
                                           description=description or None)
            return f"version {version} uploaded"
    except ApiException as error:
        if (error.status or 0) >= 500 or not error.status:
            raise ServiceUnavailable(f"pipeline controller at {host} answered {api_error_line(error)}") from None
        raise MlpError(f"pipeline controller refused: {api_error_line(error)}") from None


def _pipeline_id(client, name: str, namespace: str | None) -> str | None:
    """The id of pipeline `name` in `namespace` (None: as kfp.Client.get_pipeline_id finds it)."""
    if namespace is None:
        return client.get_pipeline_id(name)
    name_filter = json.dumps({"predicates": [{"operation": "EQUALS", "key": "display_name", "string_value": name}]})
    found = client.list_pipelines(namespace=namespace, filter=name_filter, page_size=2).pipelines or []
    return found[0].pipeline_id if found else None


def _pipeline_version_names(client, pipeline_id: str) -> set[str]:
    names: set[str] = set()
    token = ""
    while True:
        page = client.list_pipeline_versions(pipeline_id, page_token=token, page_size=100)
        names.update(v.display_name for v in page.pipeline_versions or [])
        token = page.next_page_token or ""
        if not token:
            return names


def submit_experiment(base_url: str, manifest: dict, token: TokenFile | None = None) -> str:
    name = manifest["metadata"]["name"]
    headers = token.headers() if token else {}
    namespace = manifest["metadata"].get("namespace")
    existing = requests.get(f"{base_url}/api/v1/experiments/{name}", params={"namespace": namespace} if namespace else None,
                            headers=headers, timeout=15)
    if existing.status_code == 200:
        return "exists"
    if existing.status_code >= 500:
        raise ServiceUnavailable(f"tuning service answered HTTP {existing.status_code}")
    response = requests.post(f"{base_url}/api/v1/experiments", json=manifest, headers=headers, timeout=30)
    if response.status_code == 409:
        return "exists"
    if response.status_code >= 500:
        raise ServiceUnavailable(f"tuning service answered HTTP {response.status_code}")
    if response.status_code >= 400:
        raise ConfigError(f"tuning service refused it: HTTP {response.status_code}: {response.text[:300]}")
    return "submitted"


@click.command("register")
@config_options
@click.option("--deadline", type=float, default=None,
              help="Seconds for the whole run, retries included (default: the hook's activeDeadlineSeconds "
                   f"less a minute, else {DEFAULT_DEADLINE_SECONDS:g}).")
def cli(config_path, local, state_dir, values_files, deadline):
    """Create the buckets, register the models, upload the pipelines and submit the experiments of the values."""
    config = load_config(config_path, local, state_dir, values_files)
    if deadline is None:
        job_deadline = config.hook("register").get("activeDeadlineSeconds")
        deadline = max(30.0, job_deadline - 60.0) if job_deadline else DEFAULT_DEADLINE_SECONDS
    registration = Registration(config, deadline_seconds=deadline, echo=click.echo)
    registration.run()
    failures = registration.failures
    click.echo(f"register: {len(registration.outcomes) - len(failures)} done, {len(failures)} failed")
    for outcome in failures:
        click.echo(f"  {outcome.error}", err=True)
    raise SystemExit(registration.exit_code())
