"""The real kubectl against `mlp local up`'s one kubeconfig: discovery (/api, /apis, the group versions), the
OpenAPI that `kubectl apply` reads, server-side printing, and get/apply/patch/delete of Katib Experiments
(the tuning service's kubeflow.org/v1beta1) beside the training operator's PyTorchJobs (kubeflow.org/v1),
which the tuning service forwards."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
import yaml

from mlplatform.training.resources import TrainingJobs
from mlplatform.tuning.resources import Experiments, Suggestions, Trials
from tests.support.local_fixtures import start_local_platform
from tests.tuning.test_katib_sdk import manifest

ROOT = Path(__file__).resolve().parents[2]
KUBECTL = ROOT / ".tools" / "bin" / "kubectl"


@pytest.mark.parametrize("resource, crd", [
    (Experiments, "tuning-service/crds/experiments.kubeflow.org.yaml"),
    (Trials, "tuning-service/crds/trials.kubeflow.org.yaml"),
    (Suggestions, "tuning-service/crds/suggestions.kubeflow.org.yaml"),
    (TrainingJobs, "training-operator/crds/pytorchjobs.kubeflow.org.yaml"),
    (TrainingJobs, "training-operator/crds/tfjobs.kubeflow.org.yaml"),
])
def test_local_modes_printer_columns_are_the_crds(resource, crd):
    version = yaml.safe_load((ROOT / "charts" / crd).read_text())["spec"]["versions"][0]
    assert [{"priority": 0, **column} for column in version["additionalPrinterColumns"]] == \
        list(resource.printer_columns)


@pytest.fixture(scope="module")
def kubectl(tmp_path_factory):
    """kubectl(*args) -> CompletedProcess, with the kubeconfig of a local platform (tuning + training)."""
    if not KUBECTL.exists():
        pytest.fail(f"{KUBECTL} is missing: make setup installs it")
    platform = start_local_platform(tmp_path_factory.mktemp("kubectl") / "state",
                                    components=("tuning-service", "training-operator"))
    config = platform.endpoints.extra["kubeconfig"]

    def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([str(KUBECTL), "--kubeconfig", config, *args], input=stdin, capture_output=True,
                              text=True, timeout=60, check=False)

    yield run
    platform.down()


def experiment_yaml(name: str, **changes) -> str:
    body = manifest(name, trials=2, seconds=0)
    body["spec"].update(changes)
    return yaml.safe_dump(body)


def ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, f"kubectl failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    assert "openapi" not in result.stderr and "warning" not in result.stderr.lower(), result.stderr
    return result.stdout


@pytest.mark.slow
def test_api_resources_lists_both_services_kinds(kubectl):
    lines = ok(kubectl("api-resources", "--no-headers")).splitlines()
    found = {(line.split()[0], line.split()[-3]) for line in lines}
    assert {("experiments", "kubeflow.org/v1beta1"), ("trials", "kubeflow.org/v1beta1"),
            ("suggestions", "kubeflow.org/v1beta1"), ("pytorchjobs", "kubeflow.org/v1"),
            ("tfjobs", "kubeflow.org/v1"), ("pods", "v1")} <= found
    assert "Server Version: v1." in ok(kubectl("version"))


@pytest.mark.slow
def test_apply_get_patch_and_delete_an_experiment(kubectl, tmp_path):
    path = tmp_path / "experiment.yaml"
    path.write_text(experiment_yaml("kubectl-random", resumePolicy="LongRunning"))
    assert ok(kubectl("apply", "-f", str(path))).strip() == "experiment.kubeflow.org/kubectl-random created"
    assert "experiment.kubeflow.org/kubectl-random" in ok(kubectl("apply", "-f", str(path)))  # again: no change refused
    table = _until(lambda: ok(kubectl("get", "experiments,trials", "-n", "kubeflow")),
                   lambda out: out.count("Succeeded") == 3)
    assert table.splitlines()[0].split() == ["NAME", "TYPE", "STATUS", "TRIALS", "AGE"]
    row = next(line.split() for line in table.splitlines() if "experiment.kubeflow.org/kubectl-random" in line)
    assert row[1:4] == ["Succeeded", "True", "2"]
    assert sum("trial.kubeflow.org/kubectl-random-" in line for line in table.splitlines()) == 2

    patched = ok(kubectl("patch", "experiment", "kubectl-random", "-n", "kubeflow", "--type", "merge",
                         "-p", '{"spec":{"maxTrialCount":3}}'))
    assert patched.strip() == "experiment.kubeflow.org/kubectl-random patched"
    assert ok(kubectl("get", "experiment", "kubectl-random", "-n", "kubeflow",
                      "-o", "jsonpath={.spec.maxTrialCount}")) == "3"
    _until(lambda: ok(kubectl("get", "trials", "-n", "kubeflow", "--no-headers")),
           lambda out: out.count("kubectl-random-") == 3)

    fixed = kubectl("patch", "experiment", "kubectl-random", "-n", "kubeflow", "--type", "merge",
                    "-p", '{"spec":{"algorithm":{"algorithmName":"grid"}}}')
    assert fixed.returncode == 1
    assert 'The experiments "kubectl-random" is invalid: spec.algorithm: cannot be changed' in fixed.stderr

    assert ok(kubectl("delete", "experiment", "kubectl-random", "-n", "kubeflow")).strip() == \
        'experiment.kubeflow.org "kubectl-random" deleted'
    assert "kubectl-random" not in ok(kubectl("get", "experiments,trials", "-n", "kubeflow"))


@pytest.mark.slow
def test_a_bad_experiment_is_refused_with_the_problem_named(kubectl):
    refused = kubectl("apply", "-f", "-", stdin=experiment_yaml("kubectl-bad", algorithm={"algorithmName": "bogus"}))
    assert refused.returncode == 1
    assert "Error from server (BadRequest)" in refused.stderr
    assert "spec.algorithm.algorithmName: unknown algorithm 'bogus'" in refused.stderr
    unknown = kubectl("apply", "-f", "-", stdin=experiment_yaml("kubectl-unknown", maxTrialCont=3))
    assert unknown.returncode == 1 and "spec.maxTrialCont: unknown field" in unknown.stderr
    assert "kubectl-bad" not in ok(kubectl("get", "experiments", "-n", "kubeflow"))


@pytest.mark.slow
def test_the_training_operators_jobs_through_the_same_kubeconfig(kubectl):
    assert ok(kubectl("get", "pytorchjobs")).strip() == ""  # "No resources found" goes to stderr
    job = {"apiVersion": "kubeflow.org/v1", "kind": "PyTorchJob", "metadata": {"name": "kubectl-job"},
           "spec": {"pytorchReplicaSpecs": {"Master": {"replicas": 1, "restartPolicy": "Never", "template": {
               "spec": {"containers": [{"name": "pytorch", "image": "pytorch",
                                        "command": ["/bin/sh", "-c", "echo hello"]}]}}}}}}
    assert ok(kubectl("apply", "-f", "-", stdin=yaml.safe_dump(job))).strip() == \
        "pytorchjob.kubeflow.org/kubectl-job created"
    table = _until(lambda: ok(kubectl("get", "pytorchjobs")), lambda out: "Succeeded" in out)
    assert table.splitlines()[0].split() == ["NAME", "STATE", "AGE"]
    assert "kubectl-job-master-0" in ok(kubectl("get", "pods"))
    ok(kubectl("delete", "pytorchjob", "kubectl-job"))


def _until(read, done, timeout: float = 60.0) -> str:
    deadline = time.monotonic() + timeout
    while True:
        out = read()
        if done(out) or time.monotonic() > deadline:
            assert done(out), out
            return out
        time.sleep(0.5)
