"""The kind path (`make up`, `make down`, the CI workflow), checked without Docker or a cluster.

The scripts must refuse clearly where Docker or kind is missing, set the image values the charts
really read, and the workflow must only call make targets and scripts that exist.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from mlplatform.values.charts import UMBRELLA, Render, environment_values
from tests.unit.test_image_commands import PLATFORM_IMAGE, containers, repository

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = sorted((ROOT / "ci" / "scripts").glob("*.sh"))
WORKFLOW = ROOT / ".github" / "workflows" / "ci.yaml"
UP_REFUSAL = "make up needs Docker and kind ({}); without them, run the platform locally: make demo"


@pytest.fixture
def bare_path(tmp_path) -> Path:
    """A PATH directory with only the basic tools the scripts use: no docker, no kind."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "dirname", "basename", "sed", "grep", "cat", "mktemp"):
        (bin_dir / tool).symlink_to(shutil.which(tool))
    return bin_dir


def fake(bin_dir: Path, name: str, exit_code: int) -> None:
    script = bin_dir / name
    script.write_text(f"#!/bin/sh\nexit {exit_code}\n")
    script.chmod(0o755)


def run(script: str, bin_dir: Path, *args: str) -> subprocess.CompletedProcess:
    env = {"PATH": str(bin_dir), "HOME": os.environ.get("HOME", "/tmp")}
    return subprocess.run(["bash", str(ROOT / "ci" / "scripts" / script), *args], check=False, env=env,
                          capture_output=True, text=True, timeout=30, executable=str(bin_dir / "bash"))


def one_line(result: subprocess.CompletedProcess) -> str:
    output = (result.stdout + result.stderr).strip()
    assert len(output.splitlines()) == 1, f"expected one line, got:\n{output}"
    return output


# ---- refusing without Docker or kind

def test_up_without_docker_says_so_in_one_line(bare_path):
    result = run("kind-up.sh", bare_path)
    assert result.returncode == 1
    assert one_line(result) == UP_REFUSAL.format("docker: not found")


def test_up_with_a_docker_daemon_that_does_not_answer(bare_path):
    fake(bare_path, "docker", 1)
    result = run("kind-up.sh", bare_path)
    assert result.returncode == 1
    assert one_line(result) == UP_REFUSAL.format("docker: the daemon does not answer")


def test_up_without_kind(bare_path):
    fake(bare_path, "docker", 0)
    result = run("kind-up.sh", bare_path)
    assert result.returncode == 1
    assert one_line(result) == UP_REFUSAL.format("kind: not found")


def test_down_without_docker_has_nothing_to_delete(bare_path):
    result = run("kind-down.sh", bare_path)
    assert result.returncode == 0
    assert "no kind cluster to delete" in one_line(result)


def test_upgrade_test_needs_a_previous_ref(bare_path):
    result = run("kind-upgrade-test.sh", bare_path)
    assert result.returncode != 0
    assert "usage: kind-upgrade-test.sh PREVIOUS_REF" in result.stderr


# ---- what the scripts pass to docker and helm

def test_up_creates_builds_loads_installs_and_tests(bare_path, tmp_path):
    """With stand-ins for docker, kind, helm and kubectl that record their arguments."""
    log = tmp_path / "calls.log"
    for tool in ("docker", "kind", "helm", "kubectl"):
        (bare_path / tool).write_text(f'#!{shutil.which("bash")}\necho "{tool} $*" >> {log}\n')
        (bare_path / tool).chmod(0o755)
    result = run("kind-up.sh", bare_path)
    assert result.returncode == 0, result.stderr
    calls = [line for line in log.read_text().splitlines() if not line.startswith(("docker info", "kind get"))]
    image = f"ghcr.io/{PLATFORM_IMAGE}:" + lib(f"app_version {ROOT}").strip()
    expected = [f"kind create cluster --name mlplatform --config {ROOT}/ci/kind.yaml",
                "kind export kubeconfig", f"docker build -t {image} {ROOT}", f"kind load docker-image --name mlplatform {image}",
                "helm dependency update", f"helm upgrade --install mlplatform {ROOT}/charts/mlplatform --namespace mlplatform",
                "helm test mlplatform --namespace mlplatform"]
    position = 0
    for prefix in expected:
        position = next((index for index, call in enumerate(calls) if index >= position and call.startswith(prefix)), -1)
        assert position >= 0, f"no `{prefix}` in order in:\n" + "\n".join(calls)
    install = next(call for call in calls if call.startswith("helm upgrade --install"))
    assert f"--values {ROOT}/values/dev.yaml" in install and "--wait --timeout 10m" in install


def lib(*commands: str) -> str:
    """The output of kind-lib.sh functions."""
    script = f"source {ROOT / 'ci' / 'scripts' / 'kind-lib.sh'}; " + "; ".join(commands)
    return subprocess.run(["bash", "-c", script], check=True, capture_output=True, text=True).stdout


def test_the_image_is_tagged_with_the_chart_app_version():
    chart = yaml.safe_load((ROOT / "charts" / UMBRELLA / "Chart.yaml").read_text())
    assert lib(f"app_version {ROOT}").strip() == str(chart["appVersion"])


def test_the_image_values_point_every_platform_container_at_the_loaded_image(chart_suite):
    args = lib("image_args kind-test", 'printf "%s\\n" "${IMAGE_ARGS[@]}"').splitlines()
    assignments = tuple(value for flag, value in zip(args[::2], args[1::2], strict=True) if flag == "--set-string")
    assert len(assignments) == len(args) // 2
    render = Render(UMBRELLA, (environment_values("dev"),), assignments)
    platform = [(where, container) for where, container in containers(chart_suite.objects(render))
                if repository(container["image"]).endswith(PLATFORM_IMAGE)]
    assert platform
    wrong = [f"{where}: {container['image']} {container.get('imagePullPolicy')}" for where, container in platform
             if (container["image"], container.get("imagePullPolicy"))
             != (f"ghcr.io/{PLATFORM_IMAGE}:kind-test", "IfNotPresent")]
    assert not wrong, f"containers that would not run the image kind loaded: {wrong}"


def test_kind_config_is_one_control_plane_and_one_worker_on_a_supported_kubernetes():
    config = yaml.safe_load((ROOT / "ci" / "kind.yaml").read_text())
    assert (config["kind"], config["apiVersion"]) == ("Cluster", "kind.x-k8s.io/v1alpha4")
    assert [node["role"] for node in config["nodes"]] == ["control-plane", "worker"]
    minimum = yaml.safe_load(environment_values("dev").read_text())["hooks"]["preflight"]["minKubernetesVersion"]
    for node in config["nodes"]:
        match = re.fullmatch(r"kindest/node:v(\d+)\.(\d+)\.\d+@sha256:[0-9a-f]{64}", node["image"])
        assert match, f"{node['image']}: pin a kindest/node version with its digest"
        assert tuple(map(int, match.groups())) >= tuple(map(int, minimum.split("."))), "below the preflight minimum"


# ---- the scripts are valid bash

@pytest.mark.parametrize("script", SCRIPTS, ids=[script.name for script in SCRIPTS])
def test_script_syntax(script):
    result = subprocess.run(["bash", "-n", str(script)], check=False, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("script", SCRIPTS, ids=[script.name for script in SCRIPTS])
def test_shellcheck(script):
    if shutil.which("shellcheck") is None:
        pytest.skip("shellcheck is not installed (apt-get install shellcheck)")
    command = ["shellcheck", "--severity=warning", "--external-sources", "--source-path=SCRIPTDIR", str(script)]
    result = subprocess.run(command, check=False, capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout


# ---- the CI workflow

def workflow_runs() -> list[str]:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    return [step["run"] for job in workflow["jobs"].values() for step in job["steps"] if "run" in step]


def test_workflow_has_the_lint_test_and_kind_jobs():
    workflow = yaml.safe_load(WORKFLOW.read_text())
    jobs = workflow["jobs"]
    assert {"lint", "test", "kind"} <= set(jobs)
    assert jobs["kind"]["needs"] == "lint"
    uses = [step["uses"] for job in jobs.values() for step in job["steps"] if "uses" in step]
    assert all(re.fullmatch(r"[\w-]+/[\w-]+@v\d+(\.\d+)*", action) for action in uses), uses


def test_workflow_calls_only_make_targets_that_exist():
    rules = re.findall(r"^([a-z][\w \t-]*?)\s*:(?!=)", (ROOT / "Makefile").read_text(), re.MULTILINE)
    targets = {target for rule in rules for target in rule.split()}
    called = {target for run in workflow_runs() for target in re.findall(r"\bmake\s+([a-z][\w-]*)", run)}
    assert called, "the workflow calls no make target"
    assert called <= targets, f"make targets the Makefile lacks: {sorted(called - targets)}"


def test_workflow_calls_only_scripts_that_exist():
    paths = {path for run in workflow_runs() for path in re.findall(r"(?:ci/scripts|\.ci)/[\w.-]+", run)}
    assert "ci/scripts/kind-upgrade-test.sh" in paths
    assert not [path for path in paths if not (ROOT / path).is_file()]
