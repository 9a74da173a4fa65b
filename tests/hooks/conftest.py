"""Hook programs run as real processes against a real MLflow server and moto (S3)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from mlplatform.endpoints import Endpoints
from mlplatform.s3 import s3_client
from tests.registries.servers import MOTO_CREDENTIALS, shared_server

ROOT = Path(__file__).resolve().parents[2]
S3_EXTRA = {"access_key_id": MOTO_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            "secret_access_key": MOTO_CREDENTIALS["AWS_SECRET_ACCESS_KEY"], "region": "us-east-1"}


@pytest.fixture(scope="session")
def servers(tmp_path_factory):
    root = tmp_path_factory.getbasetemp()
    return {"mlflow": shared_server("mlflow", root), "moto": shared_server("moto", root)}


def write_state(state_dir: Path, services: dict[str, str]) -> Path:
    """A local-mode state directory whose endpoints.json names `services`."""
    Endpoints(services=services, platform="local", release="local", extra={"s3": S3_EXTRA}).write(
        state_dir / "endpoints.json")
    return state_dir


@pytest.fixture
def state_dir(tmp_path, servers):
    return write_state(tmp_path / "state", {"model-registry": servers["mlflow"].url, "minio": servers["moto"].url})


@pytest.fixture
def s3(servers):
    return s3_client(servers["moto"].url, credentials=S3_EXTRA)


def write_values(path: Path, register: dict) -> Path:
    path.write_text(yaml.safe_dump({"hooks": {"register": register}}))
    return path


def run_hook(name: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """hooks/<name>.py, the program the hook Job runs, as a process."""
    return subprocess.run([sys.executable, str(ROOT / "hooks" / f"{name.replace('-', '_')}.py"), *args],
                          capture_output=True, text=True, timeout=timeout, check=False)
