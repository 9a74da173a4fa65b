"""A running local-mode platform for tests: real moto, MLflow, two MLServers, nginx, Prometheus, services.

Fixtures:

`local_platform` (session): one platform for the whole session, started with the real CLI
(`mlp local up --scrape-interval 1`) in a temporary state dir and stopped (`mlp local down`) at the end.
It serves no model until a test applies values. It is shared: a test that applies values must put
the platform back with `platform.reset()` (no models, weight 0) when it finishes, and must not rely
on another test's models; a test that needs its own options uses the factory.

    def test_inference(local_platform):
        local_platform.upload_directory(model_dir, "s3://models/iris/1")
        local_platform.apply({"modelServer": {"models": [{"name": "iris", "uri": "s3://models/iris/1"}]}})
        requests.post(local_platform.url("model-server") + "/v2/models/iris/infer", json=...)
        local_platform.reset()

`local_platform_factory` (function): starts platforms with options; each is stopped when the test ends.

    def test_something(local_platform_factory):
        platform = local_platform_factory(components=("model-server", "prometheus"), values={...})

`iris_model_uri` (session): the iris model uploaded to the session platform, as an s3:// URI.

Helpers: `save_iris_model(dir, constant=None)` writes a small sklearn model.joblib to serve;
`inference_request(rows)` is a v2 inference body for it.

A LocalPlatform has `state_dir`, `endpoints` (mlplatform.endpoints.Endpoints), `url(component)`,
`apply(values)` (mlplatform.local.model_values.apply_model_server_values: local mode's helm upgrade),
`values()` (the recorded values.yaml), `stop(process)` (kill one process, e.g. "prometheus", to inject
a fault), `status()`, `s3()` (a boto3 client for its moto) and `upload_directory(dir, s3_uri)`.
Scrape interval: 1 s. Values get local mode's defaults (router local-nginx).
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from mlplatform.endpoints import Endpoints

FAST_SCRAPE_INTERVAL = 1.0
UP_TIMEOUT = 300


def mlp(*args: str, timeout: float = UP_TIMEOUT, env: dict | None = None) -> subprocess.CompletedProcess:
    """The real `mlp` CLI in a subprocess, as a user runs it."""
    return subprocess.run([sys.executable, "-c", "from mlplatform.cli import main; main()", *args],
                          capture_output=True, text=True, timeout=timeout, check=False, env=env)


@dataclass
class LocalPlatform:
    state_dir: Path
    endpoints: Endpoints

    def url(self, component: str) -> str:
        return self.endpoints.url(component)

    def apply(self, values: dict):
        """Apply release values (modelServer shape) over local mode's defaults; returns what was applied."""
        from mlplatform.local.model_values import apply_model_server_values
        from mlplatform.local.platform import local_values

        return apply_model_server_values(self.state_dir, local_values(values))

    def reset(self):
        """Back to a fresh platform's values: no models, canary off, weight 0."""
        return self.apply({})

    def values(self) -> dict:
        return yaml.safe_load((self.state_dir / "values.yaml").read_text())

    def stop(self, process: str) -> None:
        from mlplatform.local.platform import stop_process

        stop_process(self.state_dir, process)

    def status(self):
        from mlplatform.local.platform import status

        return status(self.state_dir)

    def s3(self):
        from mlplatform.s3 import s3_client

        return s3_client(self.url("minio"), credentials=self.endpoints.extra["s3"])

    def upload_directory(self, directory: Path, s3_uri: str) -> None:
        from mlplatform.s3 import split_uri

        bucket, prefix = split_uri(s3_uri)
        client = self.s3()
        for path in sorted(Path(directory).rglob("*")):
            if path.is_file():
                client.upload_file(str(path), bucket, f"{prefix.rstrip('/')}/{path.relative_to(directory)}")

    def down(self) -> subprocess.CompletedProcess:
        return mlp("local", "down", "--state-dir", str(self.state_dir), timeout=120)


def start_local_platform(state_dir: Path, *, components: tuple[str, ...] = (), values: dict | None = None,
                         scrape_interval: float = FAST_SCRAPE_INTERVAL, options: tuple[str, ...] = ()) -> LocalPlatform:
    """`mlp local up` in `state_dir` (with `options`); fails the test with the CLI's output when it does not
    come up."""
    args = ["local", "up", "--state-dir", str(state_dir), "--scrape-interval", str(scrape_interval), *options]
    if components:
        args += ["--components", ",".join(components)]
    if values:
        state_dir.mkdir(parents=True, exist_ok=True)
        values_file = state_dir.parent / f"{state_dir.name}-values.yaml"
        values_file.write_text(yaml.safe_dump(values))
        args += ["--values", str(values_file)]
    result = mlp(*args)
    if result.returncode != 0 and _lost_a_port_race(state_dir):
        # Two tests (pytest-xdist workers) can plan the same free port before either binds it: once more.
        mlp("local", "down", "--state-dir", str(state_dir), timeout=120)
        result = mlp(*args)
    if result.returncode != 0:
        mlp("local", "down", "--state-dir", str(state_dir), timeout=120)
        pytest.fail(f"mlp local up failed ({result.returncode}):\n{result.stdout}\n{result.stderr}", pytrace=False)
    return LocalPlatform(state_dir=state_dir, endpoints=Endpoints.read(state_dir / "endpoints.json"))


def _lost_a_port_race(state_dir: Path) -> bool:
    """A process of this platform could not bind its planned port (another test took it meanwhile)."""
    return any("address already in use" in log.read_text(errors="replace").lower()
               for log in (state_dir / "logs").glob("*.log"))


@pytest.fixture(scope="session")
def local_platform(tmp_path_factory):
    platform = start_local_platform(tmp_path_factory.mktemp("local-platform") / "state")
    yield platform
    platform.down()


@pytest.fixture
def local_platform_factory(tmp_path):
    started: list[LocalPlatform] = []

    def start(**options) -> LocalPlatform:
        platform = start_local_platform(tmp_path / f"platform-{len(started)}", **options)
        started.append(platform)
        return platform

    yield start
    for platform in started:
        platform.down()


# A model to serve: tests and benchmarks train it in milliseconds and upload it to the platform's S3.

IRIS_ROW = [5.1, 3.5, 1.4, 0.2]


def save_iris_model(directory: Path, constant: int | None = None) -> Path:
    """model.joblib for MLServer's sklearn runtime: a logistic regression on iris, or a classifier that
    always answers `constant` (a second version whose answers are easy to tell apart)."""
    import joblib
    from sklearn.datasets import load_iris
    from sklearn.dummy import DummyClassifier
    from sklearn.linear_model import LogisticRegression

    features, labels = load_iris(return_X_y=True)
    model = DummyClassifier(strategy="constant", constant=constant) if constant is not None \
        else LogisticRegression(max_iter=500)
    directory.mkdir(parents=True, exist_ok=True)
    joblib.dump(model.fit(features, labels), directory / "model.joblib")
    return directory


def inference_request(rows: int = 1) -> dict:
    """An Open Inference Protocol v2 request with `rows` iris rows."""
    return {"inputs": [{"name": "features", "shape": [rows, 4], "datatype": "FP64", "data": IRIS_ROW * rows}]}


@pytest.fixture(scope="session")
def iris_model_uri(local_platform, tmp_path_factory) -> str:
    """s3://models/iris/1 in the session platform's S3: the iris model, ready for modelServer.models."""
    uri = "s3://models/iris/1"
    local_platform.upload_directory(save_iris_model(tmp_path_factory.mktemp("iris-model")), uri)
    return uri
