"""Multi-user mode of the tuning service (issue 14): the real `mlp serve tuning --auth-mode token|kubernetes`,
every allow and deny path of /api/v1/experiments and of the Katib REST paths (through the real kubernetes
client with a kubeconfig carrying a token), lists filtered to the namespaces a user may list."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
import yaml
from kubeflow import katib
from kubernetes import client, watch
from kubernetes.client.rest import ApiException

from mlplatform.kube import api_client
from mlplatform.tuning.store import Store
from mlplatform.tuning.trial_tokens import trial_token
from tests.security.multiuser import call, kubernetes_mode, running, token_mode
from tests.support.service_process import MLP

API = "/api/v1/experiments"
KATIB = "/apis/kubeflow.org/v1beta1"
GROUP, VERSION, PLURAL = "kubeflow.org", "v1beta1", "experiments"


PRINTS = "print('accuracy=${trialParameters.lr}')"
PUSHES = "from mlplatform.tuning import report_metrics; report_metrics({'accuracy': ${trialParameters.lr}})"


def experiment(name: str, namespace: str, program: str = PRINTS) -> dict:
    job = {"apiVersion": "batch/v1", "kind": "Job", "spec": {"template": {"spec": {
        "containers": [{"name": "training-container", "image": "python:3.11-slim",
                        "command": [sys.executable, "-c", program]}],
        "restartPolicy": "Never"}}}}
    return {
        "apiVersion": "kubeflow.org/v1beta1", "kind": "Experiment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"objective": {"type": "maximize", "objectiveMetricName": "accuracy"},
                 "algorithm": {"algorithmName": "random"}, "maxTrialCount": 1, "parallelTrialCount": 1,
                 "parameters": [{"name": "lr", "parameterType": "double",
                                 "feasibleSpace": {"min": "0.01", "max": "0.1"}}],
                 "trialTemplate": {"primaryContainerName": "training-container",
                                   "trialParameters": [{"name": "lr", "reference": "lr"}], "trialSpec": job}},
    }


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    """Token mode with alice (team-a), bob (team-b), admin (both); one experiment in each namespace."""
    with running(token_mode("tuning", tmp_path_factory.mktemp("tuning-auth"))) as service:
        for token, namespace in (("alice-token", "team-a"), ("bob-token", "team-b")):
            created = call(service, "POST", API, token, json=experiment(f"{namespace}-exp", namespace))
            assert created.status_code == 201, created.text
        yield service


MATRIX = [
    # method, path, token, status — and why
    ("GET", API, None, 401),                                               # no token
    ("GET", API, "forged-token", 401),                                     # a token nobody holds
    ("GET", f"{API}/team-a-exp", None, 401),
    ("GET", f"{KATIB}/namespaces/team-a/experiments", None, 401),
    ("GET", KATIB, None, 401),                                             # discovery, too
    ("GET", f"{API}/team-a-exp", "alice-token", 200),                      # the owner
    ("GET", f"{API}/team-a-exp/trials", "alice-token", 200),
    ("GET", f"{API}/team-a-exp/trial-metrics", "alice-token", 200),
    ("GET", f"{API}?namespace=team-a", "alice-token", 200),
    ("GET", f"{KATIB}/namespaces/team-a/experiments", "alice-token", 200),
    ("GET", f"{KATIB}/namespaces/team-a/experiments/team-a-exp", "alice-token", 200),
    ("GET", f"{API}/team-b-exp", "alice-token", 403),                      # another namespace
    ("GET", f"{API}/team-b-exp?namespace=team-b", "alice-token", 403),
    ("GET", f"{API}/team-b-exp/trials", "alice-token", 403),
    ("GET", f"{API}/team-b-exp/trial-metrics", "alice-token", 403),
    ("GET", f"{API}?namespace=team-b", "alice-token", 403),
    ("PATCH", f"{API}/team-b-exp", "alice-token", 403),
    ("DELETE", f"{API}/team-b-exp", "alice-token", 403),
    ("GET", f"{KATIB}/namespaces/team-b/experiments", "alice-token", 403),
    ("GET", f"{KATIB}/namespaces/team-b/experiments/team-b-exp", "alice-token", 403),
    ("DELETE", f"{KATIB}/namespaces/team-b/experiments/team-b-exp", "alice-token", 403),
    ("GET", f"{API}/no-such-exp", None, 401),                              # nowhere: 401 before 404
    ("GET", f"{API}/no-such-exp", "alice-token", 404),                     # exists nowhere
    ("DELETE", f"{API}/no-such-exp", "alice-token", 404),
    ("GET", f"{API}/no-such-exp/trials", "alice-token", 404),
    ("GET", f"{API}/no-such-exp?namespace=team-a", "alice-token", 404),
    ("GET", f"{KATIB}/namespaces/team-a/experiments/no-such-exp", "alice-token", 404),
    ("GET", f"{API}/no-such-exp?namespace=team-b", "alice-token", 403),   # a namespace she may not see
    ("GET", f"{KATIB}/namespaces/team-b/experiments/no-such-exp", "alice-token", 403),
    ("GET", "/healthz", None, 200),                                        # operational endpoints stay open
    ("GET", "/readyz", None, 200),
    ("GET", "/metrics", None, 200),
]


@pytest.mark.parametrize("method, path, token, status", MATRIX,
                         ids=[f"{m}-{p}-{t}" for m, p, t, _ in MATRIX])
def test_allow_and_deny(service, method, path, token, status):
    body = {"spec": {"maxTrialCount": 2}} if method == "PATCH" else None
    response = call(service, method, path, token, json=body)
    assert response.status_code == status, response.text
    if status == 403:
        assert "alice may not" in response.text and "experiments.kubeflow.org in namespace team-b" in response.text
    if status in (401, 403) and path.startswith(KATIB):
        assert response.json()["kind"] == "Status" and response.json()["code"] == status


def test_create_in_another_namespace_is_refused(service):
    refused = call(service, "POST", API, "alice-token", json=experiment("sneaky", "team-b"))
    assert refused.status_code == 403, refused.text
    assert "alice may not create experiments.kubeflow.org in namespace team-b" in refused.json()["error"]
    assert call(service, "GET", f"{API}/sneaky?namespace=team-b", "bob-token").status_code == 404


def test_the_owner_creates_lists_gets_and_deletes(service):
    created = call(service, "POST", API, "alice-token", json=experiment("mine", "team-a"))
    assert created.status_code == 201, created.text
    assert call(service, "GET", f"{API}/mine", "alice-token").status_code == 200
    assert "mine" in names(call(service, "GET", f"{API}?namespace=team-a", "alice-token"))
    assert call(service, "GET", f"{API}/mine", "bob-token").status_code == 403
    assert call(service, "DELETE", f"{API}/mine", "bob-token").status_code == 403
    assert call(service, "DELETE", f"{API}/mine", "alice-token").status_code == 200


def names(response) -> set[str]:
    assert response.status_code == 200, response.text
    return {item["metadata"]["name"] for item in response.json()["items"]}


def test_lists_across_namespaces_are_filtered(service):
    assert names(call(service, "GET", API, "alice-token")) >= {"team-a-exp"}
    assert "team-b-exp" not in names(call(service, "GET", API, "alice-token"))
    assert "team-a-exp" not in names(call(service, "GET", API, "bob-token"))
    assert names(call(service, "GET", API, "admin-token")) >= {"team-a-exp", "team-b-exp"}
    assert names(call(service, "GET", f"{KATIB}/experiments", "bob-token")) == {"team-b-exp"}


def kubeconfig(tmp_path, url: str, token: str):
    return client.CustomObjectsApi(api_client(str(kubeconfig_file(tmp_path, url, token))))


def kubeconfig_file(tmp_path, url: str, token: str):
    path = tmp_path / f"{token}.kubeconfig"
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "tuning",
        "clusters": [{"name": "tuning", "cluster": {"server": url}}],
        "users": [{"name": "user", "user": {"token": token}}],
        "contexts": [{"name": "tuning", "context": {"cluster": "tuning", "user": "user", "namespace": "team-a"}}],
    }))
    return path


def test_the_kubernetes_client_with_a_token(service, tmp_path):
    alice = kubeconfig(tmp_path, service.url, "alice-token")
    found = alice.get_namespaced_custom_object(GROUP, VERSION, "team-a", PLURAL, "team-a-exp")
    assert found["metadata"]["namespace"] == "team-a"
    listed = alice.list_cluster_custom_object(GROUP, VERSION, PLURAL)
    assert {item["metadata"]["namespace"] for item in listed["items"]} == {"team-a"}
    for attempt in (lambda: alice.get_namespaced_custom_object(GROUP, VERSION, "team-b", PLURAL, "team-b-exp"),
                    lambda: alice.list_namespaced_custom_object(GROUP, VERSION, "team-b", PLURAL),
                    lambda: alice.create_namespaced_custom_object(GROUP, VERSION, "team-b", PLURAL,
                                                                  experiment("kube-sneaky", "team-b"))):
        with pytest.raises(ApiException) as refused:
            attempt()
        assert refused.value.status == 403 and "alice may not" in refused.value.body
    with pytest.raises(ApiException) as unknown:
        kubeconfig(tmp_path, service.url, "forged-token").list_namespaced_custom_object(GROUP, VERSION, "team-a",
                                                                                         PLURAL)
    assert unknown.value.status == 401


def katib_status(attempt) -> int:
    """The HTTP status behind the Katib SDK's RuntimeError."""
    with pytest.raises(RuntimeError) as failed:
        attempt()
    assert isinstance(failed.value.__context__, ApiException), failed.value
    return failed.value.__context__.status


def test_katib_client_across_namespaces_gets_403_and_unknown_names_404(service, tmp_path):
    alice = katib.KatibClient(config_file=str(kubeconfig_file(tmp_path, service.url, "alice-token")),
                              namespace="team-a")
    assert alice.get_experiment("team-a-exp").metadata.namespace == "team-a"
    assert katib_status(lambda: alice.get_experiment("team-b-exp", namespace="team-b")) == 403
    assert katib_status(lambda: alice.delete_experiment("team-b-exp", namespace="team-b")) == 403
    assert katib_status(lambda: alice.get_experiment("no-such-exp")) == 404
    assert katib_status(lambda: alice.delete_experiment("no-such-exp")) == 404
    assert call(service, "GET", f"{API}/team-b-exp", "bob-token").status_code == 200     # left alone


def test_a_watch_across_namespaces_is_filtered(service, tmp_path):
    bob = kubeconfig(tmp_path, service.url, "bob-token")
    events = watch.Watch().stream(bob.list_cluster_custom_object, GROUP, VERSION, PLURAL, timeout_seconds=1)
    seen = [(event["type"], event["object"]["metadata"]["namespace"]) for event in events]
    assert ("ADDED", "team-b") in seen and {namespace for _, namespace in seen} == {"team-b"}, seen


def finished(service, name: str, token: str) -> dict:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        found = call(service, "GET", f"{API}/{name}", token).json()
        if found["status"].get("completionTime"):
            return found
        time.sleep(0.5)
    raise AssertionError(f"experiment {name} did not finish: {found['status']}")


def test_trials_push_metrics_with_their_own_token(service):
    """The trial's report_metrics() sends MLP_TRIAL_TOKEN, which the service made for it; without it, with a
    user's token or with another trial's, a push is 401 before anything about the trial is looked up."""
    pushing = experiment("pushing", "team-a", PUSHES)
    pushing["spec"]["metricsCollectorSpec"] = {"collector": {"kind": "Push"}}
    assert call(service, "POST", API, "alice-token", json=pushing).status_code == 201
    status = finished(service, "pushing", "alice-token")["status"]
    assert status["trialsSucceeded"] == 1, status
    trial = status["succeededTrialList"][0]
    metrics = {"metrics": {"accuracy": 0.5}}
    store = Store(service.db)
    for token in (None, "alice-token", "admin-token", trial_token(store, "another-trial"), "forged"):
        refused = call(service, "POST", f"/api/v1/trials/{trial}/metrics", token, json=metrics)
        assert refused.status_code == 401 and "token" in refused.json()["error"], (token, refused.text)
    own = call(service, "POST", f"/api/v1/trials/{trial}/metrics", trial_token(store, trial), json=metrics)
    assert own.status_code == 409 and "already finished" in own.json()["error"], own.text   # past the check
    unknown = call(service, "POST", "/api/v1/trials/no-such-trial/metrics", trial_token(store, "no-such-trial"),
                   json=metrics)
    assert unknown.status_code == 404, unknown.text


def test_token_mode_needs_a_token_file():
    result = subprocess.run([str(MLP), "serve", "tuning", "--auth-mode", "token"], capture_output=True,
                            text=True, check=False, timeout=30)
    assert result.returncode == 2 and "--auth-mode token needs --auth-tokens FILE" in result.stderr


def test_kubernetes_mode_asks_the_api_server(cluster, tmp_path):
    """TokenReview and SubjectAccessReview on the test API server: bob views team-b through a group and
    may not write there; alice edits team-a."""
    server = cluster.server
    with running(kubernetes_mode("tuning", tmp_path / "service", cluster.kubeconfig)) as service:
        assert call(service, "POST", API, "alice-token", json=experiment("a1", "team-a")).status_code == 201
        assert call(service, "GET", f"{API}/a1", "alice-token").status_code == 200
        assert call(service, "GET", f"{API}?namespace=team-b", "bob-token").status_code == 200
        viewer_writes = call(service, "POST", API, "bob-token", json=experiment("b1", "team-b"))
        assert viewer_writes.status_code == 403, viewer_writes.text
        assert "bob may not create experiments.kubeflow.org in namespace team-b" in viewer_writes.json()["error"]
        assert call(service, "GET", f"{API}/a1", "bob-token").status_code == 403
        assert call(service, "GET", f"{API}/a1", "forged-token").status_code == 401
        assert names(call(service, "GET", API, "bob-token")) == set()
        assert server.reviews.counts["tokenreviews"] >= 2 and server.reviews.counts["subjectaccessreviews"] >= 4
