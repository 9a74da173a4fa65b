"""`mlp canary rollout|status|promote|abort` on a Helm release, through pyhelm3, against the test API server.

Helm really installs and upgrades (helm 3 and helm 4), Deployments become ready (`kubelet`) and hook Jobs
run as local processes (`run_jobs`). Two charts:
  - tests/canary/gate-chart: charts/model-server plus a post-upgrade hook that fails from a chosen canary
    weight, so a step passes or fails at will (a real analysis needs real traffic: tests/canary/
    test_rollout_local.py runs those against local mode);
  - the umbrella charts/mlplatform, whose real `mlp hook canary-analysis` Job runs here: pointed at a
    Prometheus that does not answer, it fails safe, and the step is rolled back and aborted.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from mlplatform.tools import helm_binary
from mlplatform.values import charts
from tests.support.chart_fixtures import HELM_PARAMS

GATE_CHART = Path(__file__).resolve().parent / "gate-chart"


@pytest.fixture(scope="module")
def staged(tmp_path_factory) -> Path:
    """The project's charts with their dependencies built, and the gate chart beside them."""
    root = charts.stage(tmp_path_factory.mktemp("staged") / "charts", helm_binary(3))
    shutil.copytree(GATE_CHART, root / "gate-chart")
    subprocess.run([str(helm_binary(3)), "dependency", "update", "--skip-refresh", str(root / "gate-chart")],
                   check=True, capture_output=True)
    return root


class Cluster:
    """One helm major against the test API server; `mlp` runs as a user runs it, with Helm's plugin context."""

    def __init__(self, kube_api, major: int, tmp_path: Path):
        self.kube_api, self.major, self.tmp_path = kube_api, major, tmp_path
        self.env = {**kube_api.helm_env(major), "HELM_BIN": str(helm_binary(major)), "HELM_NAMESPACE": "default"}

    def helm(self, *args: str) -> str:
        return self.kube_api.helm(self.major, *args, "--namespace", "default").stdout

    def install(self, chart: Path, values: dict) -> None:
        path = self.tmp_path / "install-values.yaml"
        path.write_text(yaml.safe_dump(values))
        self.helm("install", "mlp", str(chart), "--values", str(path), "--wait", "--timeout", "60s")

    def mlp(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-c", "from mlplatform.cli import main; main()", *args],
                              capture_output=True, text=True, timeout=300, check=False, env=self.env,
                              cwd=self.tmp_path)

    def values(self, revision: int) -> dict:
        return yaml.safe_load(self.helm("get", "values", "mlp", "--revision", str(revision), "--all", "--output", "yaml"))

    def history(self) -> list[dict]:
        return json.loads(self.helm("history", "mlp", "--output", "json"))

    def report(self) -> dict:
        return json.loads((self.tmp_path / "report.json").read_text())


@pytest.fixture(params=HELM_PARAMS)
def cluster(kube_api, request, tmp_path) -> Cluster:
    kube_api.server.kubelet = True
    kube_api.server.run_jobs = True
    return Cluster(kube_api, request.param, tmp_path)


def canary_of(values: dict) -> tuple[bool, int, list[str]]:
    canary = values["modelServer"].get("canary") or {}
    return canary.get("enabled", False), canary.get("weight", 0), [m["uri"] for m in canary.get("models") or []]


def stable_uris(values: dict) -> list[str]:
    return [m["uri"] for m in values["modelServer"]["models"]]


def hook_jobs_created(cluster: Cluster) -> int:
    """Job creations Helm sent: a POST (Helm 3) or a server-side apply PATCH (Helm 4) of the jobs."""
    jobs = "/apis/batch/v1/namespaces/default/jobs"
    return sum(1 for method, path in cluster.kube_api.server.requests
               if (method, path.partition("?")[0]) in {("POST", jobs), ("PATCH", f"{jobs}/mlp-gate")})


def rollout(cluster: Cluster, chart: Path, *args: str) -> subprocess.CompletedProcess:
    return cluster.mlp("canary", "rollout", "--release", "mlp", "--chart", str(chart), "--timeout", "120s",
                       "--report", str(cluster.tmp_path / "report.json"), *args)


def test_every_step_is_a_revision_gated_by_the_hook_then_promoted(cluster, staged):
    cluster.install(staged / "gate-chart", {})
    result = rollout(cluster, staged / "gate-chart", "--version", "s3://models/fraud/2", "--steps", "10,50,100")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "step 2/3 weight 50%: upgrading…" in result.stdout and "step 3/3 weight 100%: passed" in result.stdout
    assert "promoted" in result.stdout

    history = cluster.history()
    assert [entry["revision"] for entry in history] == [1, 2, 3, 4, 5]
    assert history[2]["description"] == "mlp canary: step 2/3 weight 50%"
    assert [canary_of(cluster.values(revision))[:2] for revision in (2, 3, 4)] == [(True, 10), (True, 50), (True, 100)]
    assert canary_of(cluster.values(3))[2] == ["s3://models/fraud/2"]
    assert stable_uris(cluster.values(3)) == ["s3://models/fraud/1"]          # stable untouched while stepping
    promoted = cluster.values(5)
    assert stable_uris(promoted) == ["s3://models/fraud/2"] and canary_of(promoted) == (False, 0, [])

    assert hook_jobs_created(cluster) == 3                                   # the gate hook ran once per step
    report = cluster.report()
    assert report["outcome"] == "promoted" and [s["revision"] for s in report["results"]] == [2, 3, 4]
    assert report["final_revision"] == 5


def test_a_failed_step_is_rolled_back_by_helm_then_aborted_to_weight_0(cluster, staged):
    cluster.install(staged / "gate-chart", {"gate": {"failAtWeight": 50}})
    result = rollout(cluster, staged / "gate-chart", "--version", "s3://models/fraud/2", "--steps", "10,50,100")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "step 2/3 weight 50%: failed" in result.stdout
    assert "error: rollout aborted, traffic back to stable" in result.stderr
    assert "weight 100%" not in result.stdout

    history = cluster.history()
    # 1 install, 2 step 10 %, 3 step 50 % (failed), 4 Helm's rollback to 2, 5 the abort
    assert [entry["status"] for entry in history] == ["superseded", "superseded", "failed", "superseded", "deployed"]
    assert canary_of(cluster.values(4)) == (True, 10, ["s3://models/fraud/2"])   # the rollback restored step 1
    aborted = cluster.values(5)
    assert canary_of(aborted) == (False, 0, []) and stable_uris(aborted) == ["s3://models/fraud/1"]

    report = cluster.report()
    assert report["outcome"] == "aborted" and [s["passed"] for s in report["results"]] == [True, False]
    assert "gate: canary weight 50, exit 1" in "\n".join(report["results"][1]["analysis"]["hook_log"])

    status = cluster.mlp("canary", "status", "mlp", "--output", "json", "--report", str(cluster.tmp_path / "report.json"))
    assert status.returncode == 0, status.stderr
    shown = json.loads(status.stdout)
    assert shown["weight"] == 0 and shown["canary"]["enabled"] is False
    assert shown["last_rollout"]["outcome"] == "aborted"
    described = {r["revision"]: (r["status"], r["description"]) for r in shown["revisions"]}   # from the cluster
    assert described[2] == ("superseded", "mlp canary: step 1/3 weight 10%")
    assert described[4][1] == "Rollback to 2" and described[5] == ("deployed", "mlp canary: abort")


def test_status_promote_and_abort_by_hand(cluster, staged):
    cluster.install(staged / "gate-chart", {})
    held = rollout(cluster, staged / "gate-chart", "--version", "s3://models/fraud/2", "--steps", "25")
    assert held.returncode == 0 and "holds at 25%" in held.stdout, held.stdout + held.stderr
    status = cluster.mlp("canary", "status", "mlp", "--output", "json")
    assert json.loads(status.stdout)["weight"] == 25, status.stdout + status.stderr   # the replicas router: 1 of 4 pods

    chart = ["--chart", str(staged / "gate-chart")]
    promoted = cluster.mlp("canary", "promote", "mlp", *chart)
    assert promoted.returncode == 0, promoted.stderr
    assert stable_uris(cluster.values(3)) == ["s3://models/fraud/2"] and canary_of(cluster.values(3)) == (False, 0, [])
    again = cluster.mlp("canary", "promote", "mlp", *chart)
    assert again.returncode == 2 and "no canary to promote" in again.stderr
    aborted = cluster.mlp("canary", "abort", "mlp", *chart)
    assert aborted.returncode == 0 and canary_of(cluster.values(4)) == (False, 0, [])


@pytest.mark.parametrize("helm", HELM_PARAMS)
def test_bad_input_is_one_line_and_exit_2(kube_api, helm, tmp_path, staged):
    cluster = Cluster(kube_api, helm, tmp_path)
    unknown = rollout(cluster, staged / "gate-chart", "--version", "3", "--model", "fraud")
    assert unknown.returncode == 2 and unknown.stderr.strip() == "error: release mlp not found in namespace default"
    steps = rollout(cluster, staged / "gate-chart", "--version", "3", "--steps", "10,5")
    assert steps.returncode == 2 and "steps must increase (5 follows 10)" in steps.stderr
    neither = cluster.mlp("canary", "status")
    assert neither.returncode == 2 and "name the release" in neither.stderr


UMBRELLA_VALUES = {
    "pipelineController": {"enabled": False}, "tuningService": {"enabled": False},
    "modelRegistry": {"enabled": False}, "minio": {"enabled": False},
    "trainingOperator": {"enabled": False}, "dashboard": {"enabled": False},
    "global": {"s3": {"endpoint": "http://127.0.0.1:9", "existingSecret": "s3-credentials"}},
    "modelServer": {"replicaCount": 2, "models": [{"name": "fraud", "uri": "s3://models/fraud/1",
                                                         "implementation": "mlserver_sklearn.SKLearnModel"}],
                    "canary": {"analysis": {"intervalSeconds": 1, "iterations": 2, "failureLimit": 0}}},
    "hooks": {"preflight": {"enabled": False}, "register": {"enabled": False}, "validate": {"enabled": False},
              "canaryAnalysis": {"activeDeadlineSeconds": 30}},
}


def test_the_real_analysis_hook_fails_safe_without_prometheus_and_the_rollout_aborts(cluster, staged):
    """The umbrella's `mlp hook canary-analysis` Job runs for real; its Prometheus (the release's Service
    name) does not answer here, so it must fail, never pass, and the step is rolled back and aborted."""
    cluster.install(staged / "mlplatform", UMBRELLA_VALUES)
    result = rollout(cluster, staged / "mlplatform", "--version", "s3://models/fraud/2", "--steps", "50,100")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "step 1/2 weight 50%: failed" in result.stdout
    history = cluster.history()
    assert [entry["status"] for entry in history][-3:] == ["failed", "superseded", "deployed"]
    assert canary_of(cluster.values(history[-1]["revision"])) == (False, 0, [])
    hook = cluster.report()["results"][0]["analysis"]
    assert hook["hook_pod"].startswith("mlp-mlplatform-canary-analysis-"), hook
    log = "\n".join(hook["hook_log"])
    assert "http://mlp-prometheus:9090" in log and "failed" in log, log     # it failed because Prometheus did not answer


def test_helm_mlp_canary_reaches_the_cli_with_helms_context(cluster, staged):
    """The installed plugin: `helm -n default mlp canary ...` runs `mlp canary ...` with Helm's namespace,
    kubeconfig and binary (HELM_BIN), so the rollout drives the helm that called it."""
    plugin = Path(__file__).resolve().parents[2] / "plugins" / "mlp"
    cluster.kube_api.helm(cluster.major, "plugin", "install", str(plugin))
    cluster.install(staged / "gate-chart", {})

    def helm_mlp(*args: str) -> subprocess.CompletedProcess:
        return cluster.kube_api.helm(cluster.major, "-n", "default", "mlp", "canary", *args, check=False,
                                     timeout=300)

    rolled = helm_mlp("rollout", "mlp", "--chart", str(staged / "gate-chart"), "--version", "s3://models/fraud/2",
                      "--steps", "50", "--report", str(cluster.tmp_path / "report.json"))
    assert rolled.returncode == 0 and "holds at 50%" in rolled.stdout, rolled.stdout + rolled.stderr
    status = helm_mlp("status", "mlp", "--report", str(cluster.tmp_path / "report.json"))
    assert status.returncode == 0, status.stderr
    assert "live canary weight: 50%" in status.stdout and "canary: enabled, weight 50% in values" in status.stdout
    assert "last rollout: holding (s3://models/fraud/2)" in status.stdout
    assert "    2 deployed: mlp canary: step 1/1 weight 50%" in status.stdout
