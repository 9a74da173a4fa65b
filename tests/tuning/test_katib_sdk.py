"""The tuning service in the Kubernetes API shape (kubeflow.org/v1beta1), driven through the real
`kubernetes` client and the real `kubeflow-katib` KatibClient with a kubeconfig that points at it, as
`mlp local up` writes one."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
import requests
from kubernetes import client, watch
from kubernetes.client.rest import ApiException

from mlplatform.kube import api_client
from mlplatform.kubeapi.kubeconfig import write_kubeconfig
from tests.tuning.helpers import load
from tests.tuning.test_api import sleepy


def katib_sdk():
    """kubeflow-katib 0.19 pins protobuf<5, which kfp and mlflow cannot take: it is installed with --no-deps."""
    return pytest.importorskip("kubeflow.katib", reason="pip install --no-deps kubeflow-katib (see docs/tuning.md)")

GROUP, VERSION = "kubeflow.org", "v1beta1"


@pytest.fixture
def kube(tuning, tmp_path):
    config = write_kubeconfig(tmp_path / "kubeconfig", tuning.url, namespace="kubeflow")
    made = api_client(str(config))
    yield client.CustomObjectsApi(made), config
    made.close()


def manifest(name: str, **options) -> dict:
    body = load(sleepy(name, **options))
    body["metadata"].pop("labels")
    body["metadata"]["namespace"] = "kubeflow"
    return body


def test_custom_objects_api_creates_lists_gets_and_deletes(kube):
    api, _ = kube
    created = api.create_namespaced_custom_object(GROUP, VERSION, "kubeflow", "experiments", manifest("k8s-crud"))
    assert created["metadata"]["namespace"] == "kubeflow" and created["metadata"]["resourceVersion"]
    listed = api.list_namespaced_custom_object(GROUP, VERSION, "kubeflow", "experiments")
    assert listed["kind"] == "ExperimentList" and "k8s-crud" in [i["metadata"]["name"] for i in listed["items"]]
    with pytest.raises(ApiException) as missing:  # a namespace is a namespace
        api.get_namespaced_custom_object(GROUP, VERSION, "other", "experiments", "k8s-crud")
    assert missing.value.status == 404 and json.loads(missing.value.body)["reason"] == "NotFound"
    with pytest.raises(ApiException) as taken:
        api.create_namespaced_custom_object(GROUP, VERSION, "kubeflow", "experiments", manifest("k8s-crud"))
    assert taken.value.status == 409 and json.loads(taken.value.body)["reason"] == "AlreadyExists"

    done = _wait(api, "k8s-crud", "Succeeded")
    trials = api.list_namespaced_custom_object(
        GROUP, VERSION, "kubeflow", "trials", label_selector="katib.kubeflow.org/experiment=k8s-crud"
    )["items"]
    assert len(trials) == done["status"]["trials"] == 2
    assert {t["metadata"]["ownerReferences"][0]["uid"] for t in trials} == {done["metadata"]["uid"]}
    suggestion = api.get_namespaced_custom_object(GROUP, VERSION, "kubeflow", "suggestions", "k8s-crud")
    assert suggestion["status"]["suggestionCount"] == 2

    api.delete_namespaced_custom_object(GROUP, VERSION, "kubeflow", "experiments", "k8s-crud")
    left = api.list_namespaced_custom_object(
        GROUP, VERSION, "kubeflow", "trials", label_selector="katib.kubeflow.org/experiment=k8s-crud"
    )
    assert left["items"] == []  # the trials went with their experiment


def test_bad_experiments_and_fixed_fields_are_refused_with_a_status(kube):
    api, _ = kube
    body = manifest("k8s-bad")
    body["spec"]["resumePolicy"] = "Bogus"
    with pytest.raises(ApiException) as refused:
        api.create_namespaced_custom_object(GROUP, VERSION, "kubeflow", "experiments", body)
    status = json.loads(refused.value.body)
    assert refused.value.status == 400 and status["kind"] == "Status"
    assert any("invalid ResumePolicyType" in cause["message"] for cause in status["details"]["causes"])

    api.create_namespaced_custom_object(GROUP, VERSION, "kubeflow", "experiments", manifest("k8s-fixed", trials=3))
    with pytest.raises(ApiException) as fixed:
        api.patch_namespaced_custom_object(
            GROUP, VERSION, "kubeflow", "experiments", "k8s-fixed", {"spec": {"algorithm": {"algorithmName": "tpe"}}}
        )
    assert fixed.value.status == 422
    assert json.loads(fixed.value.body)["details"]["causes"] == [{"field": "spec.algorithm", "message": "cannot be changed"}]
    patched = api.patch_namespaced_custom_object(  # a merge patch of a count is what Katib allows
        GROUP, VERSION, "kubeflow", "experiments", "k8s-fixed", {"spec": {"parallelTrialCount": 2}}
    )
    assert patched["spec"]["parallelTrialCount"] == 2
    with pytest.raises(ApiException) as forbidden:
        api.create_namespaced_custom_object(
            GROUP, VERSION, "kubeflow", "trials",
            {"apiVersion": f"{GROUP}/{VERSION}", "kind": "Trial", "metadata": {"name": "mine"}},
        )
    assert forbidden.value.status == 405


def test_watch_reports_the_experiment_changing(kube):
    api, _ = kube
    created = api.create_namespaced_custom_object(
        GROUP, VERSION, "kubeflow", "experiments", manifest("k8s-watched", seconds=0.5)
    )
    seen = []
    for event in watch.Watch().stream(
        api.list_namespaced_custom_object, GROUP, VERSION, "kubeflow", "experiments",
        field_selector="metadata.name=k8s-watched", resource_version=created["metadata"]["resourceVersion"],
        timeout_seconds=60,
    ):
        seen.append(event["type"])
        conditions = event["object"]["status"]["conditions"]
        if any(c["type"] == "Succeeded" and c["status"] == "True" for c in conditions):
            break
    assert seen and set(seen) == {"MODIFIED"}, seen
    versions = int(created["metadata"]["resourceVersion"])
    assert int(event["object"]["metadata"]["resourceVersion"]) > versions


def _wait(api, name: str, condition: str, timeout: float = 90) -> dict:
    for event in watch.Watch().stream(
        api.list_namespaced_custom_object, GROUP, VERSION, "kubeflow", "experiments",
        field_selector=f"metadata.name={name}", timeout_seconds=int(timeout),
    ):
        conditions = event["object"]["status"]["conditions"]
        if any(c["type"] == condition and c["status"] == "True" for c in conditions):
            return event["object"]
    raise AssertionError(f"experiment {name} did not reach {condition} within {timeout}s")


@pytest.mark.slow
def test_katib_client_drives_an_experiment_end_to_end(kube):
    katib = katib_sdk()
    _, config = kube
    katib_client = katib.KatibClient(config_file=str(config), namespace="kubeflow")
    katib_client.create_experiment(manifest("sdk-branin", trials=3, parallel=2, seconds=0))
    done = katib_client.wait_for_experiment_condition("sdk-branin", timeout=120, polling_interval=1)
    assert katib_client.is_experiment_succeeded("sdk-branin")
    optimal = katib_client.get_optimal_hyperparameters("sdk-branin")
    trials = katib_client.list_trials("sdk-branin")
    assert len(trials) == 3 and done.status.trials_succeeded == 3
    best = min(trials, key=lambda t: float(t.status.observation.metrics[0].latest))
    assert optimal.best_trial_name == best.metadata.name
    assert [p.to_dict() for p in optimal.parameter_assignments] == [p.to_dict() for p in best.spec.parameter_assignments]
    katib_client.delete_experiment("sdk-branin")
    assert katib_client.list_trials("sdk-branin") == []


@pytest.mark.slow
def test_katib_client_tune_runs_a_python_objective(start_tuning, tmp_path):
    katib = katib_sdk()
    # KatibClient.tune() runs `bash -c` with `python -u`: the service needs a `python` on its PATH
    path = f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"
    service = start_tuning(env={"PATH": path})
    config = write_kubeconfig(tmp_path / "kubeconfig", service.url)
    katib_client = katib.KatibClient(config_file=str(config))

    def objective(parameters):
        x = float(parameters["x"])
        print(f"result={(x - 1.0) ** 2}")

    katib_client.tune(
        name="tuned", objective=objective, parameters={"x": katib.search.double(min=-2.0, max=3.0)},
        objective_metric_name="result", objective_type="minimize", max_trial_count=4, parallel_trial_count=2,
        algorithm_name="random",
    )
    katib_client.wait_for_experiment_condition("tuned", timeout=120, polling_interval=1)
    optimal = katib_client.get_optimal_hyperparameters("tuned")
    x = float(optimal.parameter_assignments[0].value)
    assert float(optimal.observation.metrics[0].latest) == pytest.approx((x - 1.0) ** 2)
    assert len(katib_client.list_trials("tuned")) == 4


def test_names_are_unique_per_namespace(kube, tuning):
    api, _ = kube
    for namespace in ("kubeflow", "team-b"):
        body = manifest("twin", trials=1, seconds=0)
        body["metadata"]["namespace"] = namespace
        created = api.create_namespaced_custom_object(GROUP, VERSION, namespace, "experiments", body)
        assert created["metadata"]["namespace"] == namespace
    ambiguous = requests.get(f"{tuning.url}/api/v1/experiments/twin", timeout=10)
    assert ambiguous.status_code == 409 and "team-b" in ambiguous.json()["error"], ambiguous.text
    named = requests.get(f"{tuning.url}/api/v1/experiments/twin?namespace=team-b", timeout=10)
    assert named.status_code == 200 and named.json()["metadata"]["namespace"] == "team-b"
    api.delete_namespaced_custom_object(GROUP, VERSION, "team-b", "experiments", "twin")
    assert api.get_namespaced_custom_object(GROUP, VERSION, "kubeflow", "experiments", "twin")["metadata"]["name"]
    api.delete_namespaced_custom_object(GROUP, VERSION, "kubeflow", "experiments", "twin")
