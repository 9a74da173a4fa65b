"""A third-party plugin package (tests/plugins/thirdparty) installed at test time and used by mlplatform:
its check runs in `mlp validate`, its registry backs `mlp hook register`, its router loads by name."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.hooks.conftest import run_hook, write_state

PACKAGE = Path(__file__).parent / "thirdparty"


@pytest.fixture(scope="module")
def plugin_path(tmp_path_factory):
    """pip-install the package into its own directory (with its dist-info and entry points); the venv
    stays untouched, and only processes given this path on PYTHONPATH see the plugins."""
    root = tmp_path_factory.mktemp("thirdparty")
    source = shutil.copytree(PACKAGE, root / "source")  # the build writes next to the sources
    target = root / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--target", str(target), str(source)], check=True, capture_output=True)
    return target


@pytest.fixture
def env(plugin_path, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(plugin_path), os.environ.get("PYTHONPATH")])))


def python(*code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "\n".join(code)], capture_output=True, text=True, timeout=60, check=False)


def test_the_plugins_are_listed_in_each_group(env):
    result = python("from mlplatform import plugins",
                    "for group in plugins.GROUPS: print(group, sorted(plugins.available(group)))")
    assert result.returncode == 0, result.stderr
    assert "team-policy" in result.stdout and "jsonfile" in result.stdout and "weight-file" in result.stdout


def test_without_the_package_the_plugins_are_absent():
    result = python("from mlplatform import plugins", "print(sorted(plugins.available('mlplatform.checks')))")
    assert "team-policy" not in result.stdout


def test_validate_runs_the_third_party_check(env, tmp_path):
    state = write_state(tmp_path / "state", {})
    (state / "values.yaml").write_text(yaml.safe_dump({"hooks": {"register": {"models": [
        {"name": "fraud", "tags": {"team": "risk"}}, {"name": "churn"}]}}}))
    result = run_hook("validate", "--local", "--state-dir", str(state), "--check", "team-policy", "--output", "json")
    report = json.loads(result.stdout)
    assert result.returncode == 1
    assert [(r["component"], r["status"]) for r in report["results"]] == [("model fraud", "passed"),
                                                                            ("model churn", "failed")]
    assert "add hooks.register.models[].tags.team" in report["results"][1]["detail"]


def test_register_uses_the_third_party_registry(env, tmp_path):
    registry_file = tmp_path / "registry.json"
    # The version's source is another model of the same registry, so the hook checks it through the plugin.
    registry_file.write_text(json.dumps({"upstream": {"versions": [
        {"version": "1", "source": "s3://models/upstream/1", "label": "1", "tags": {}}], "aliases": {}, "tags": {}}}))
    state = write_state(tmp_path / "state", {})
    values = tmp_path / "values.yaml"
    values.write_text(yaml.safe_dump({"hooks": {"register": {
        "registry": "jsonfile", "registryUrl": f"file://{registry_file}", "buckets": [],
        "models": [{"name": "fraud", "versions": [
            {"source": "models:/upstream/1", "version": "1", "aliases": ["champion"]}]}]}}}))
    args = ["--local", "--state-dir", str(state), "--values", str(values), "--deadline", "10"]

    first = run_hook("register", *args)
    second = run_hook("register", *args)

    assert first.returncode == 0 and second.returncode == 0, first.stdout + first.stderr + second.stderr
    stored = json.loads(registry_file.read_text())["fraud"]
    assert [v["source"] for v in stored["versions"]] == ["models:/upstream/1"]  # once, not twice
    assert stored["aliases"] == {"champion": "1"}


def test_the_third_party_router_loads_by_name(env, tmp_path):
    result = python("from mlplatform import plugins",
                    "router_class = plugins.load('mlplatform.routers', 'weight-file')",
                    f"router = router_class({{'weightFile': {{'path': '{tmp_path / 'weight'}'}}}})",
                    "router.set_weight(30)", "print(router.get_weight())")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "30" and (tmp_path / "weight").read_text() == "30"
