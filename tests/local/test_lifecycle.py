"""`mlp local up|status|down` with real processes: what they write, what they report, and no orphans."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from mlplatform.checks.health import HEALTH_PATHS, LOCAL_S3_HEALTH
from mlplatform.local.state import STATE_MARKER
from tests.support.local_fixtures import mlp, start_local_platform

pytestmark = pytest.mark.slow

EVERY_COMPONENT = {"minio", "model-registry", "model-server", "model-server-stable", "model-server-canary",
                   "prometheus", "pipeline-controller", "tuning-service"}


def platform_pids(state_dir: Path) -> list[int]:
    """Every live process whose environment names this state dir: what `down` must leave at zero."""
    marker = f"{STATE_MARKER}={state_dir.resolve()}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            environ = Path(f"/proc/{entry}/environ").read_bytes()
            state = Path(f"/proc/{entry}/stat").read_text().rpartition(")")[2].split()[0]
        except OSError:
            continue
        if marker in environ.split(b"\0") and state != "Z":
            found.append(int(entry))
    return found


def test_endpoints_json_names_every_component_and_each_answers(local_platform):
    endpoints = json.loads((local_platform.state_dir / "endpoints.json").read_text())
    assert endpoints["platform"] == "local"
    assert EVERY_COMPONENT <= set(endpoints["services"])
    for component, url in endpoints["services"].items():
        path = LOCAL_S3_HEALTH if component == "minio" else HEALTH_PATHS[component]
        assert requests.get(url + path, timeout=5).status_code == 200, component
    assert endpoints["extra"]["s3"] == {"access_key_id": "testing", "secret_access_key": "testing",
                                        "region": "us-east-1"}
    buckets = {bucket["Name"] for bucket in local_platform.s3().list_buckets()["Buckets"]}
    assert set(endpoints["extra"]["buckets"]) == {"mlpipeline", "mlflow", "models"} <= buckets


def test_processes_json_and_status_describe_every_process(local_platform):
    processes = json.loads((local_platform.state_dir / "processes.json").read_text())["processes"]
    names = {process["name"] for process in processes}
    assert EVERY_COMPONENT <= names
    for process in processes:
        assert Path(process["log"]).is_file() and process["command"] and process["pid"] > 0

    result = mlp("local", "status", "--state-dir", str(local_platform.state_dir), "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    running = [entry for entry in json.loads(result.stdout) if entry["state"] != "not started"]
    assert {entry["name"] for entry in running} == names
    assert all(entry["healthy"] for entry in running)


def test_up_refuses_a_state_dir_that_is_running(local_platform):
    result = mlp("local", "up", "--state-dir", str(local_platform.state_dir))
    assert result.returncode == 2
    assert f"already runs in {local_platform.state_dir}" in result.stderr and "mlp local down" in result.stderr


def test_up_status_down_leaves_no_process_behind(tmp_path):
    state_dir = tmp_path / "state"
    start_local_platform(state_dir)
    pids = platform_pids(state_dir)
    recorded = json.loads((state_dir / "processes.json").read_text())["processes"]
    # MLflow's server and MLServer's inference workers are children: more processes than records.
    assert len(pids) > len(recorded)

    result = mlp("local", "down", "--state-dir", str(state_dir))
    assert result.returncode == 0, result.stderr
    assert platform_pids(state_dir) == []
    assert not (state_dir / "endpoints.json").exists()

    for command in ("status", "down"):   # nothing runs there any more: they say so, and exit 1
        result = mlp("local", command, "--state-dir", str(state_dir))
        assert result.returncode == 1 and f"no local platform in {state_dir}" in result.stderr, result.stderr


def test_status_and_down_from_another_directory_name_the_state_dir_they_looked_in(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for command in ("status", "down"):
        result = subprocess.run([sys.executable, "-c", "from mlplatform.cli import main; main()", "local", command],
                                cwd=elsewhere, capture_output=True, text=True, timeout=60, check=False)
        assert result.returncode == 1, result.stdout
        assert f"no local platform in {elsewhere / '.mlplatform'}" in result.stderr
        assert "stopped" not in result.stdout


def test_missing_nginx_and_prometheus_are_reported_and_the_rest_starts(tmp_path):
    env = {**os.environ, "MLP_NGINX_BIN": str(tmp_path / "no-nginx"), "MLP_PROMETHEUS_BIN": str(tmp_path / "no-prom")}
    state_dir = tmp_path / "state"
    up = mlp("local", "up", "--state-dir", str(state_dir), "--components", "model-server,prometheus", env=env)
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        assert "nginx not found: install it with `apt-get install nginx-light`" in up.stdout
        assert "prometheus not found: install it with `apt-get install prometheus`" in up.stdout
        services = json.loads((state_dir / "endpoints.json").read_text())["services"]
        assert set(services) == {"minio", "model-server-stable", "model-server-canary"}

        status = mlp("local", "status", "--state-dir", str(state_dir))
        assert status.returncode == 0, status.stdout
        lines = {line.split()[0]: line for line in status.stdout.splitlines()}
        assert "not started" in lines["model-server"] and "nginx-light" in lines["model-server"]
        assert "not started" in lines["prometheus"]
    finally:
        mlp("local", "down", "--state-dir", str(state_dir))
    assert platform_pids(state_dir) == []


def test_a_process_that_dies_at_startup_fails_up_and_stops_the_others(tmp_path):
    failing = tmp_path / "prometheus"
    failing.write_text("#!/bin/sh\necho 'bad flag --config.file' >&2\nexit 3\n")
    failing.chmod(0o755)
    state_dir = tmp_path / "state"
    up = mlp("local", "up", "--state-dir", str(state_dir), "--components", "minio,prometheus",
             env={**os.environ, "MLP_PROMETHEUS_BIN": str(failing)})
    assert up.returncode == 3
    assert "error: prometheus exited" in up.stderr and "bad flag --config.file" in up.stderr
    assert platform_pids(state_dir) == []


def test_unknown_components_and_bad_values_fail_before_anything_starts(tmp_path):
    unknown = mlp("local", "up", "--state-dir", str(tmp_path / "a"), "--components", "minio,kafka")
    assert unknown.returncode == 2 and "unknown kafka" in unknown.stderr

    values = tmp_path / "values.yaml"
    values.write_text("modelServer:\n  canary:\n    weight: 30\n")
    bad = mlp("local", "up", "--state-dir", str(tmp_path / "b"), "--values", str(values))
    assert bad.returncode == 2
    assert "modelServer.canary.weight is above 0 but modelServer.canary.enabled is false" in bad.stderr
    assert platform_pids(tmp_path / "b") == []
