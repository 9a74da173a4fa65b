"""Cluster mode: the tuning service as the controller of Experiment objects, against the test API server
through the real kubernetes client and the real KatibClient. Trial Jobs run as local processes there."""

from __future__ import annotations

import time

import pytest
import requests
from kubernetes import client

from tests.tuning.test_chart_and_crds import crds
from tests.tuning.test_katib_sdk import katib_sdk
from tests.tuning.test_kubernetes_trials import NAMESPACE, branin_jobs

GROUP, VERSION = "kubeflow.org", "v1beta1"


@pytest.fixture
def controller(kube_api, start_tuning):
    kube_api.server.run_jobs = True
    for crd in crds().values():  # the chart's own CRDs
        kube_api.server.create(crd)
    service = start_tuning(
        env={"POD_NAMESPACE": NAMESPACE},
        extra_args=["--runner", "kubernetes", "--watch-namespaces", NAMESPACE],
    )
    return service, client.CustomObjectsApi(kube_api.api_client())


def experiment(name: str, trials: int, **spec) -> dict:
    body = branin_jobs(name, trials=trials, **spec)
    body["metadata"]["namespace"] = NAMESPACE
    return body


def wait_for(api, name: str, check, what: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        item = api.get_namespaced_custom_object(GROUP, VERSION, NAMESPACE, "experiments", name)
        if check(item.get("status") or {}):
            return item
        if time.monotonic() > deadline:
            raise AssertionError(f"{name}: no {what} after {timeout}s; status: {item.get('status')}")
        time.sleep(0.3)


def condition(status: dict, kind: str) -> dict | None:
    return next((c for c in status.get("conditions", []) if c["type"] == kind and c["status"] == "True"), None)


def trials_of(api, name: str) -> list[dict]:
    return api.list_namespaced_custom_object(
        GROUP, VERSION, NAMESPACE, "trials", label_selector=f"katib.kubeflow.org/experiment={name}"
    )["items"]


def test_applied_experiment_runs_gets_status_and_owned_trials_and_resumes_on_patch(controller):
    service, api = controller
    api.create_namespaced_custom_object(
        GROUP, VERSION, NAMESPACE, "experiments", experiment("ctl-branin", 2, resumePolicy="LongRunning")
    )
    done = wait_for(api, "ctl-branin", lambda s: condition(s, "Succeeded"), "Succeeded")
    assert done["status"]["trialsSucceeded"] == 2
    trials = trials_of(api, "ctl-branin")
    assert {t["metadata"]["name"] for t in trials} == set(done["status"]["succeededTrialList"])
    for trial in trials:
        assert trial["metadata"]["ownerReferences"][0]["uid"] == done["metadata"]["uid"]
        assert condition(trial["status"], "Succeeded")
    best = done["status"]["currentOptimalTrial"]["bestTrialName"]
    assert best in {t["metadata"]["name"] for t in trials}

    api.patch_namespaced_custom_object(  # kubectl patch ... --type merge -p '{"spec":{"maxTrialCount":3}}'
        GROUP, VERSION, NAMESPACE, "experiments", "ctl-branin", {"spec": {"maxTrialCount": 3}}
    )
    wait_for(api, "ctl-branin", lambda s: s.get("trialsSucceeded") == 3 and condition(s, "Succeeded"), "3 trials")
    assert len(trials_of(api, "ctl-branin")) == 3

    api.delete_namespaced_custom_object(GROUP, VERSION, NAMESPACE, "experiments", "ctl-branin")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        forgotten = requests.get(f"{service.url}/api/v1/experiments/ctl-branin", timeout=10).status_code == 404
        if forgotten and not trials_of(api, "ctl-branin"):
            break
        time.sleep(0.3)
    assert trials_of(api, "ctl-branin") == []  # cascading: the Trials went with their Experiment
    assert requests.get(f"{service.url}/api/v1/experiments/ctl-branin", timeout=10).status_code == 404


def test_a_bad_experiment_gets_a_failed_condition_naming_the_problem(controller):
    _, api = controller
    api.create_namespaced_custom_object(
        GROUP, VERSION, NAMESPACE, "experiments", experiment("ctl-bad", 2, resumePolicy="Bogus")
    )
    failed = wait_for(api, "ctl-bad", lambda s: condition(s, "Failed"), "Failed")
    assert "invalid ResumePolicyType" in condition(failed["status"], "Failed")["message"]


@pytest.mark.slow
def test_katib_client_against_the_cluster_with_the_controller(controller, kube_api):
    katib = katib_sdk()
    katib_client = katib.KatibClient(config_file=str(kube_api.kubeconfig), namespace=NAMESPACE)
    katib_client.create_experiment(experiment("ctl-sdk", 2))
    katib_client.wait_for_experiment_condition("ctl-sdk", timeout=120, polling_interval=1)
    optimal = katib_client.get_optimal_hyperparameters("ctl-sdk")
    trials = katib_client.list_trials("ctl-sdk")
    assert len(trials) == 2 and optimal.best_trial_name in {t.metadata.name for t in trials}
    katib_client.delete_experiment("ctl-sdk")
