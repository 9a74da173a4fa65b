"""The `helm mlp` plugin: one plugin.yaml that installs and runs on Helm 3 and Helm 4."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from kubernetes import client

from mlplatform.checks.base import PASSED
from mlplatform.tools import helm_binary
from tests.support.chart_fixtures import HELM_PARAMS

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = ROOT / "plugins" / "mlp"
SUBCOMMANDS = ("status", "validate", "canary", "diff", "upgrade-check")


def described_subcommands(help_text: str) -> dict[str, str]:
    """subcommand -> its one-line description, from the "Subcommands:" block of `helm mlp --help`."""
    block = help_text.split("Subcommands:\n", 1)[1].split("\n\n", 1)[0]
    rows = (re.fullmatch(r"  (\S+).*?\s{2,}(\S.*)", line) for line in block.splitlines())
    return {row[1]: row[2] for row in rows if row}


def helm_home(root: Path) -> dict[str, str]:
    return {"HELM_DATA_HOME": str(root / "data"), "HELM_CONFIG_HOME": str(root / "config"),
            "HELM_CACHE_HOME": str(root / "cache")}


def run_helm(major: int, home: dict, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(helm_binary(major)), *args], capture_output=True, text=True, timeout=120, check=False,
                          env={**os.environ, **home, **(env or {})})


@pytest.fixture
def installed(tmp_path, request):
    major = request.param
    home = helm_home(tmp_path / f"helm{major}")
    result = run_helm(major, home, "plugin", "install", str(PLUGIN))
    assert result.returncode == 0, result.stderr
    return major, home


@pytest.mark.parametrize("installed", HELM_PARAMS, indirect=True)
def test_the_plugin_loads(installed):
    major, home = installed
    listing = run_helm(major, home, "plugin", "list")
    assert listing.returncode == 0 and "mlp" in listing.stdout
    assert "error" not in listing.stderr.lower()


@pytest.mark.parametrize("installed", HELM_PARAMS, indirect=True)
@pytest.mark.parametrize("flag", ["--help", "-h", "help"])
def test_help_describes_every_subcommand(installed, flag):
    major, home = installed
    result = run_helm(major, home, "mlp", flag, env={"MLP_BIN": "/nonexistent"})  # help needs no mlp
    assert result.returncode == 0, result.stderr
    described = described_subcommands(result.stdout)
    assert list(described) == list(SUBCOMMANDS), result.stdout
    assert all(len(description.split()) >= 4 for description in described.values()), described


@pytest.mark.parametrize("installed", HELM_PARAMS, indirect=True)
def test_no_subcommand_prints_the_help_and_exits_2(installed):
    major, home = installed
    result = run_helm(major, home, "mlp")
    assert result.returncode == 2
    assert list(described_subcommands(result.stderr)) == list(SUBCOMMANDS)


@pytest.mark.parametrize("installed", HELM_PARAMS, indirect=True)
@pytest.mark.parametrize(("subcommand", "mlp_usage"), [
    (["status"], "Usage: mlp release status"), (["validate"], "Usage: mlp validate"),
    (["canary"], "Usage: mlp canary"), (["canary", "rollout"], "Usage: mlp canary rollout"),
    (["diff"], "Usage: mlp release diff"), (["upgrade-check"], "Usage: mlp release upgrade-check")])
def test_subcommand_help_is_mlps_help(installed, subcommand, mlp_usage):
    major, home = installed
    result = run_helm(major, home, "mlp", *subcommand, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(mlp_usage), result.stdout


@pytest.mark.parametrize("installed", HELM_PARAMS, indirect=True)
def test_subcommands_map_onto_mlp_with_the_release_context(installed, tmp_path):
    """A stand-in mlp (MLP_BIN) records what the plugin runs and the context Helm passes it."""
    major, home = installed
    recorder = tmp_path / "mlp"
    recorder.write_text('#!/bin/sh\necho "args: $*"\necho "ns: $HELM_NAMESPACE ctx: $HELM_KUBECONTEXT '
                        'kubeconfig: $KUBECONFIG"\n')
    recorder.chmod(0o755)
    env = {"MLP_BIN": str(recorder)}
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("")

    def plugin(*args):
        result = run_helm(major, home, "-n", "team-a", "--kube-context", "prod", "--kubeconfig", str(kubeconfig),
                          "mlp", *args, env=env)
        assert result.returncode == 0, result.stderr
        return result.stdout.splitlines()

    assert plugin("status", "mlp")[0] == "args: release status mlp"
    assert plugin("diff", "mlp", "-f", "v.yaml")[0] == "args: release diff mlp -f v.yaml"
    assert plugin("upgrade-check", "mlp")[0] == "args: release upgrade-check mlp"
    assert plugin("validate", "mlp", "--output", "json")[0] == "args: validate --release mlp --output json"
    assert plugin("canary", "status", "mlp")[0] == "args: canary status mlp"
    assert plugin("status", "mlp")[1] == f"ns: team-a ctx: prod kubeconfig: {kubeconfig}"


@pytest.mark.parametrize("installed", HELM_PARAMS, indirect=True)
def test_an_unknown_subcommand_is_refused(installed):
    major, home = installed
    result = run_helm(major, home, "mlp", "rollback")
    assert result.returncode == 2
    assert result.stderr.splitlines()[0] == "error: unknown subcommand 'rollback' (helm mlp --help lists them)"


def test_setup_installs_the_plugin_for_both_helms(tmp_path):
    tools = tmp_path / "tools"
    (tools / "bin").mkdir(parents=True)
    for name, major in (("helm", 3), ("helm4", 4)):
        (tools / "bin" / name).symlink_to(helm_binary(major))
    result = subprocess.run(["bash", str(ROOT / "ci" / "scripts" / "install-helm-plugin.sh"), str(tools)],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    for major in (3, 4):
        listing = run_helm(major, helm_home(tools / "helm-home" / str(major)), "plugin", "list")
        assert "mlp" in listing.stdout, listing.stderr
    again = subprocess.run(["bash", str(ROOT / "ci" / "scripts" / "install-helm-plugin.sh"), str(tools)],
                           capture_output=True, text=True, timeout=120, check=False)
    assert again.returncode == 0, again.stderr  # re-running setup replaces the plugin


# ---- against a release really installed in the test API server (kube_api), through the installed plugin

RELEASE_NAMESPACE = "ml"


@pytest.fixture(params=HELM_PARAMS)
def release(request, kube_api, chart_suite):
    """The umbrella installed by helm `major` (hooks that need the platform's network off), every workload
    ready, and the plugin installed in the fixture's helm home as `make setup-plugin` installs it."""
    major = request.param
    kube_api.server.kubelet = True
    kube_api.helm(major, "plugin", "install", str(PLUGIN))
    chart = chart_suite.staged(major) / "mlplatform"
    kube_api.helm(major, "install", "mlp", str(chart), "--namespace", RELEASE_NAMESPACE, "--create-namespace",
                  "--set", "hooks.preflight.enabled=false,hooks.register.enabled=false", "--wait", "--timeout", "60s")
    return major, chart


def helm_mlp(kube_api, major: int, *args: str) -> subprocess.CompletedProcess:
    """`helm -n ml mlp ...` with the fixture's kubeconfig: Helm passes the context to the real mlp."""
    return kube_api.helm(major, "-n", RELEASE_NAMESPACE, "mlp", *args, check=False, timeout=180)


def test_status_of_a_real_release_through_the_plugin(kube_api, release):
    major, _ = release
    result = helm_mlp(kube_api, major, "status", "mlp", "--output", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    status = json.loads(result.stdout)
    assert (status["release"], status["namespace"], status["revision"], status["status"]) == (
        "mlp", RELEASE_NAMESPACE, 1, "deployed")
    assert {c["component"]: c["ready"] for c in status["components"]} == dict.fromkeys(
        ["pipeline-controller", "tuning-service", "training-operator", "dashboard", "model-registry",
         "model-server-stable", "minio", "prometheus"], True)
    assert status["canary"] == {"enabled": False, "weight": 0, "router": "replicas"}

    table = helm_mlp(kube_api, major, "status", "mlp")
    assert table.returncode == 0, table.stderr
    assert f"release mlp (namespace {RELEASE_NAMESPACE}): revision 1, deployed" in table.stdout


def test_status_names_an_unready_component_and_exits_1(kube_api, release):
    major, _ = release
    kube_api.server.kubelet = False
    apps = client.AppsV1Api(kube_api.api_client())
    apps.patch_namespaced_stateful_set_status("mlp-minio", RELEASE_NAMESPACE, {"status": {"readyReplicas": 0}})
    result = helm_mlp(kube_api, major, "status", "mlp")
    assert result.returncode == 1, result.stdout + result.stderr
    assert re.search(r"NOT READY\s+minio\s+StatefulSet mlp-minio: 0/1 ready \(no pods\)", result.stdout), result.stdout


def test_status_of_a_release_that_is_not_there_is_one_clear_line(kube_api, release):
    major, _ = release
    result = helm_mlp(kube_api, major, "status", "absent")
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"release absent not found in namespace {RELEASE_NAMESPACE}" in result.stderr
    assert "Traceback" not in result.stderr


def test_diff_of_a_real_release_through_the_plugin(kube_api, release):
    major, chart = release
    unchanged = helm_mlp(kube_api, major, "diff", "mlp", str(chart))
    assert unchanged.returncode == 0, unchanged.stdout + unchanged.stderr
    assert unchanged.stdout.strip().splitlines()[-1] == "release mlp: no changes"

    changed = helm_mlp(kube_api, major, "diff", "mlp", str(chart), "--set", "modelServer.replicaCount=3")
    assert changed.returncode == 0, changed.stdout + changed.stderr
    assert f"# Deployment {RELEASE_NAMESPACE}/mlp-model-server-stable: changed" in changed.stdout, changed.stdout
    assert re.search(r"^-\s+replicas: 2$", changed.stdout, re.MULTILINE), changed.stdout
    assert re.search(r"^\+\s+replicas: 3$", changed.stdout, re.MULTILINE), changed.stdout
    assert changed.stdout.strip().splitlines()[-1].startswith("release mlp: 1 changed")
    # diff changes nothing: the release is still at revision 1
    history = json.loads(kube_api.helm(major, "history", "mlp", "-n", RELEASE_NAMESPACE, "--output", "json").stdout)
    assert [entry["revision"] for entry in history] == [1]


def test_upgrade_check_of_a_real_release_through_the_plugin(kube_api, release):
    """Against the release's stored manifest and the cluster's version (helm upgrade --dry-run=server)."""
    major, chart = release
    unchanged = helm_mlp(kube_api, major, "upgrade-check", "mlp", str(chart), "--output", "json")
    assert unchanged.returncode == 0, unchanged.stdout + unchanged.stderr
    assert {r["status"] for r in json.loads(unchanged.stdout)["results"]} == {PASSED}

    resized = helm_mlp(kube_api, major, "upgrade-check", "mlp", str(chart), "--set", "minio.persistence.size=500Gi")
    assert resized.returncode == 1, resized.stdout + resized.stderr
    assert re.search(r"FAIL\s+immutable-fields\s+StatefulSet ml/mlp-minio\s+spec.volumeClaimTemplates would change",
                     resized.stdout), resized.stdout
    assert "release mlp for Kubernetes 1.31" in resized.stdout   # the cluster's version, asked of the API server
