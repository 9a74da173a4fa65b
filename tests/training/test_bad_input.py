"""Bad PyTorchJob and TFJob bodies get a 4xx Kubernetes Status naming what is wrong, and nothing is stored."""

from __future__ import annotations

import copy
import json

import pytest
import requests
from kubernetes import client

from tests.training.helpers import pytorchjob, tfjob

GROUP, VERSION = "kubeflow.org", "v1"
GOOD = pytorchjob("bad", ["true"])


def broken(change) -> dict:
    body = copy.deepcopy(GOOD)
    change(body)
    return body


def _set(path: str, value):
    def change(body):
        node = body
        *parents, last = path.split(".")
        for key in parents:
            node = node[key]
        node[last] = value
    return change


def _drop_container_name(body):
    body["spec"]["pytorchReplicaSpecs"]["Worker"]["template"]["spec"]["containers"][0]["name"] = "main"


CASES = [
    (_set("spec.bogus", 1), 400, 'unknown field "spec.bogus"'),
    (_set("spec.runPolicy.retries", 3), 400, 'unknown field "spec.runPolicy.retries"'),
    (_set("spec.pytorchReplicaSpecs.Worker.replicaz", 2), 400, 'unknown field "spec.pytorchReplicaSpecs.Worker.replicaz"'),
    (_set("spec.pytorchReplicaSpecs.Worker.replicas", -1), 422, "Worker.replicas: -1 must be a non-negative integer"),
    (_set("spec.pytorchReplicaSpecs.Master.replicas", 2), 422, "Master.replicas: must be 1"),
    (_set("spec.pytorchReplicaSpecs.Worker.restartPolicy", "Sometimes"), 422, "Unsupported value 'Sometimes'"),
    (_set("spec.pytorchReplicaSpecs.Launcher", {"replicas": 1}), 422, "Launcher: Unsupported value"),
    (_set("spec.pytorchReplicaSpecs", {}), 422, "pytorchReplicaSpecs: Required value"),
    (_drop_container_name, 422, "a container named 'pytorch'"),
    (_set("spec.runPolicy.cleanPodPolicy", "Some"), 422, "cleanPodPolicy: Unsupported value 'Some'"),
    (_set("spec.runPolicy.backoffLimit", "three"), 422, "backoffLimit: 'three' must be an integer"),
    (_set("spec.nprocPerNode", "gpu"), 422, "nprocPerNode: 'gpu'"),
    (_set("spec.elasticPolicy", {"minReplicas": 3, "maxReplicas": 2}), 422, "minReplicas (3) must not exceed"),
    (_set("metadata.name", "Not_A_Name"), 422, "metadata.name: 'Not_A_Name'"),
    (_set("spec.pytorchReplicaSpecs.Worker.replicas", 9), 422, "local mode runs at most 4"),
    (_set("kind", "TFJob"), 400, "must be apiVersion kubeflow.org/v1, kind PyTorchJob"),
]


@pytest.mark.parametrize("change, code, words", CASES, ids=[words for _, _, words in CASES])
def test_a_bad_pytorchjob_is_refused_with_a_status_naming_the_problem(kube, change, code, words):
    custom = client.CustomObjectsApi(kube)
    with pytest.raises(client.ApiException) as refused:
        custom.create_namespaced_custom_object(GROUP, VERSION, "default", "pytorchjobs", broken(change))
    status = json.loads(refused.value.body)
    assert refused.value.status == code and status["kind"] == "Status" and status["code"] == code
    assert words in status["message"], status["message"]
    names = [j["metadata"]["name"] for j in custom.list_namespaced_custom_object(GROUP, VERSION, "default",
                                                                                   "pytorchjobs")["items"]]
    assert "bad" not in names


def test_a_tfjob_without_a_command_cannot_run_locally_and_says_why(kube):
    body = tfjob("no-command", ["true"])
    del body["spec"]["tfReplicaSpecs"]["PS"]["template"]["spec"]["containers"][0]["command"]
    with pytest.raises(client.ApiException) as refused:
        client.CustomObjectsApi(kube).create_namespaced_custom_object(GROUP, VERSION, "default", "tfjobs", body)
    assert refused.value.status == 422 and "tfReplicaSpecs.PS: the tensorflow container needs a command" in \
        json.loads(refused.value.body)["message"]


def test_unreadable_bodies_taken_names_spec_changes_and_unknown_names(kube, training):
    custom = client.CustomObjectsApi(kube)
    url = f"{training.url}/apis/{GROUP}/{VERSION}/namespaces/default/pytorchjobs"
    answer = requests.post(url, data="{not json", headers={"Content-Type": "application/json"}, timeout=10)
    assert answer.status_code == 400 and answer.json()["kind"] == "Status"

    custom.create_namespaced_custom_object(GROUP, VERSION, "default", "pytorchjobs", pytorchjob("taken", ["true"]))
    with pytest.raises(client.ApiException) as taken:
        custom.create_namespaced_custom_object(GROUP, VERSION, "default", "pytorchjobs", pytorchjob("taken", ["true"]))
    assert taken.value.status == 409 and json.loads(taken.value.body)["reason"] == "AlreadyExists"

    patch = {"spec": {"pytorchReplicaSpecs": {"Worker": {"replicas": 3}}}}
    with pytest.raises(client.ApiException) as fixed:
        custom.patch_namespaced_custom_object(GROUP, VERSION, "default", "pytorchjobs", "taken", patch)
    assert fixed.value.status == 422 and "spec: Forbidden" in json.loads(fixed.value.body)["message"]
    labelled = custom.patch_namespaced_custom_object(GROUP, VERSION, "default", "pytorchjobs", "taken",
                                                     {"metadata": {"labels": {"team": "a"}}})
    assert labelled["metadata"]["labels"] == {"team": "a"}

    with pytest.raises(client.ApiException) as missing:
        custom.get_namespaced_custom_object(GROUP, VERSION, "default", "pytorchjobs", "nobody")
    assert missing.value.status == 404 and json.loads(missing.value.body)["message"] == 'pytorchjobs.kubeflow.org "nobody" not found'
    with pytest.raises(client.ApiException) as no_pod:
        client.CoreV1Api(kube).read_namespaced_pod_log("nobody-master-0", "default")
    assert no_pod.value.status == 404
    custom.delete_namespaced_custom_object(GROUP, VERSION, "default", "pytorchjobs", "taken")
