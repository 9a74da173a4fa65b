"""Hook programs run as real processes against local mode (`local_platform`): its MLflow, moto and
pipeline controller. Fault tests point a state directory at a registry that is not there."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from mlplatform.endpoints import Endpoints

ROOT = Path(__file__).resolve().parents[2]
S3_EXTRA = {"access_key_id": "testing", "secret_access_key": "testing", "region": "us-east-1"}  # local mode's moto


def write_state(state_dir: Path, services: dict[str, str]) -> Path:
    """A local-mode state directory whose endpoints.json names `services` (for faults: a registry that
    is not there yet, or never will be)."""
    Endpoints(services=services, platform="local", release="local", extra={"s3": S3_EXTRA}).write(
        state_dir / "endpoints.json")
    return state_dir


@pytest.fixture
def state_dir(local_platform):
    """Local mode's own state directory: its registry, S3, pipeline controller."""
    return local_platform.state_dir


@pytest.fixture
def s3(local_platform):
    return local_platform.s3()


def write_values(path: Path, register: dict) -> Path:
    path.write_text(yaml.safe_dump({"hooks": {"register": register}}))
    return path


def run_hook(name: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """hooks/<name>.py, the program the hook Job runs, as a process."""
    return subprocess.run([sys.executable, str(ROOT / "hooks" / f"{name.replace('-', '_')}.py"), *args],
                          capture_output=True, text=True, timeout=timeout, check=False)
