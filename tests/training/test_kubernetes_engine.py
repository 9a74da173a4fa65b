"""Cluster mode through the test API server and the real kubernetes client: the controller adopts a
PyTorchJob or TFJob object, the engine makes one Job and one headless Service per replica, owned by it,
with the operator's env and the gang barrier, and the object's status follows its replicas."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import kubernetes_validate
import pytest
from kubernetes import client

from mlplatform.training.controller import TrainingJobController
from mlplatform.training.engine import Engine
from mlplatform.training.kubernetes import KubernetesReplicas
from mlplatform.training.store import Store
from tests.support.chart_fixtures import KUBERNETES_VERSIONS
from tests.training.helpers import pytorchjob, tfjob

GROUP, VERSION = "kubeflow.org", "v1"
IMAGE = "ghcr.io/mlplatform/mlplatform:test"


class Operator:
    """The controller and the engine of `mlp serve training --runner kubernetes --watch-namespaces default`,
    stepped by hand: one pass of each at a time."""

    def __init__(self, kube_api, tmp_path, gang_timeout: int = 120):
        api = kube_api.api_client()
        for kind in ("PyTorchJob", "TFJob"):
            kube_api.server.add_crd(GROUP, VERSION, kind, status_subresource=True)
        self.engine = Engine(Store(f"sqlite:///{tmp_path / 'training.db'}"),
                             KubernetesReplicas(api, gang_timeout=gang_timeout, image=IMAGE, owner_references=True))
        self.controller = TrainingJobController(self.engine, api, ["default"])
        self.custom, self.batch, self.core = client.CustomObjectsApi(api), client.BatchV1Api(api), client.CoreV1Api(api)

    def step(self, times: int = 2) -> None:
        for _ in range(times):
            self.controller.sync()
            self.engine.sync()
        self.controller.sync()

    def create(self, body: dict) -> dict:
        plural = body["kind"].lower() + "s"
        return self.custom.create_namespaced_custom_object(GROUP, VERSION, "default", plural, body)

    def get(self, name: str, plural: str = "pytorchjobs") -> dict:
        return self.custom.get_namespaced_custom_object(GROUP, VERSION, "default", plural, name)

    def jobs(self, name: str) -> dict[str, dict]:
        items = self.batch.list_namespaced_job("default", label_selector=f"training.kubeflow.org/job-name={name}").items
        return {item.metadata.name: self.batch.api_client.sanitize_for_serialization(item) for item in items}

    def finish_replica(self, name: str, succeeded: bool) -> None:
        """What the Job controller writes when the replica's pod ends."""
        kind = "Complete" if succeeded else "Failed"
        self.batch.patch_namespaced_job_status(name, "default", {"status": {
            "conditions": [{"type": kind, "status": "True", "reason": "Test"}],
            "succeeded" if succeeded else "failed": 1}})


    def pod_ended(self, job_name: str, exit_code: int, suffix: str = "first") -> None:
        """The replica's pod, ended with `exit_code`, and its Job failed: what the kubelet and the Job
        controller write."""
        job = self.batch.read_namespaced_job(job_name, "default")
        pod = {"apiVersion": "v1", "kind": "Pod",
               "metadata": {"name": f"{job_name}-{suffix}", "labels": job.spec.template.metadata.labels,
                            "ownerReferences": [{"apiVersion": "batch/v1", "kind": "Job", "name": job_name,
                                                 "uid": job.metadata.uid, "controller": True}]},
               "spec": {"restartPolicy": "Never", "containers": [{"name": "pytorch", "image": "busybox"}]}}
        self.core.create_namespaced_pod("default", pod)
        self.core.patch_namespaced_pod_status(f"{job_name}-{suffix}", "default", {"status": {
            "phase": "Failed", "containerStatuses": [{
                "name": "pytorch", "image": "busybox", "imageID": "", "ready": False, "restartCount": 0,
                "state": {"terminated": {"exitCode": exit_code, "reason": "Error"}}}]}})
        self.finish_replica(job_name, succeeded=False)


@pytest.fixture
def operator(kube_api, tmp_path) -> Operator:
    return Operator(kube_api, tmp_path)


def env_of(job: dict) -> dict[str, str]:
    container = next(c for c in job["spec"]["template"]["spec"]["containers"] if c["name"] in ("pytorch", "tensorflow"))
    return {item["name"]: item["value"] for item in container["env"]}


def test_a_pytorchjob_gets_a_job_and_a_headless_service_per_replica_owned_by_it(operator):
    created = operator.create(pytorchjob("dist", ["python", "train.py"], workers=2))
    operator.step()
    jobs = operator.jobs("dist")
    assert sorted(jobs) == ["dist-master-0", "dist-worker-0", "dist-worker-1"]
    owner = {"apiVersion": "kubeflow.org/v1", "kind": "PyTorchJob", "name": "dist", "uid": created["metadata"]["uid"],
             "controller": True, "blockOwnerDeletion": True}
    for name, job in jobs.items():
        assert job["metadata"]["ownerReferences"] == [owner]
        labels = job["spec"]["template"]["metadata"]["labels"]
        _, replica_type, index = name.rsplit("-", 2)
        assert labels["training.kubeflow.org/job-name"] == "dist"
        assert labels["training.kubeflow.org/replica-type"] == replica_type
        assert labels["training.kubeflow.org/replica-index"] == index
        assert (labels.get("training.kubeflow.org/job-role") == "master") == (replica_type == "master")
        barrier = job["spec"]["template"]["spec"]["initContainers"][0]
        assert barrier["name"] == "gang-barrier" and barrier["image"] == IMAGE
        assert barrier["command"][-3:] == ["dist-master-0", "dist-worker-0", "dist-worker-1"]
        assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never" and job["spec"]["backoffLimit"] == 0
        service = operator.core.read_namespaced_service(name, "default")
        assert service.spec.cluster_ip == "None" and service.spec.publish_not_ready_addresses
        assert service.spec.selector["training.kubeflow.org/replica-index"] == index
        assert service.metadata.owner_references[0].uid == created["metadata"]["uid"]
        for version in KUBERNETES_VERSIONS:
            kubernetes_validate.validate(job, version, strict=True)
            kubernetes_validate.validate(operator.core.api_client.sanitize_for_serialization(service), version,
                                         strict=True)
    assert env_of(jobs["dist-worker-1"]) == {
        "PYTHONUNBUFFERED": "1", "MASTER_ADDR": "dist-master-0", "MASTER_PORT": "23456", "WORLD_SIZE": "3",
        "RANK": "2", "LOCAL_RANK": "0", "PET_MASTER_ADDR": "dist-master-0", "PET_MASTER_PORT": "23456",
        "PET_NNODES": "3", "PET_NPROC_PER_NODE": "1", "PET_NODE_RANK": "2"}
    assert env_of(jobs["dist-master-0"])["RANK"] == "0"
    status = operator.get("dist")["status"]
    assert status["conditions"][0]["reason"] == "PyTorchJobCreated" and status["startTime"]


def test_status_follows_the_replicas_and_cleanpodpolicy_removes_the_running_ones(operator):
    operator.create(pytorchjob("follow", ["python", "train.py"]))
    operator.step()
    operator.finish_replica("follow-master-0", succeeded=True)
    operator.step()
    status = operator.get("follow")["status"]
    final = status["conditions"][-1]
    assert (final["type"], final["status"], final["reason"]) == ("Succeeded", "True", "PyTorchJobSucceeded")
    assert status["replicaStatuses"]["Master"]["succeeded"] == 1 and status["completionTime"]
    assert list(operator.jobs("follow")) == ["follow-master-0"]   # cleanPodPolicy Running: the worker went
    events = operator.core.list_namespaced_event("default", field_selector="involvedObject.name=follow").items
    assert [(e.reason, e.type) for e in events if e.involved_object.kind == "PyTorchJob"] == [
        ("PyTorchJobCreated", "Normal"), ("PyTorchJobSucceeded", "Normal")]


def test_a_failed_replica_with_restart_policy_never_fails_the_job(operator):
    operator.create(pytorchjob("fails", ["python", "train.py"]))
    operator.step()
    operator.finish_replica("fails-worker-0", succeeded=False)
    operator.step()
    final = operator.get("fails")["status"]["conditions"][-1]
    assert (final["type"], final["reason"]) == ("Failed", "PyTorchJobFailed") and "worker-0" in final["message"]


def test_exitcode_replaces_a_replica_killed_by_a_signal_and_fails_on_a_permanent_code(operator):
    operator.create(pytorchjob("retry", ["python", "train.py"], restart_policy="ExitCode", backoffLimit=3))
    operator.step()
    first_uid = operator.jobs("retry")["retry-worker-0"]["metadata"]["uid"]
    operator.pod_ended("retry-worker-0", exit_code=137)   # SIGKILL: retryable
    operator.step()
    status = operator.get("retry")["status"]
    restarting = next(c for c in status["conditions"] if c["type"] == "Restarting")
    assert restarting["status"] == "True" and "worker-0 failed" in restarting["message"]
    assert operator.jobs("retry")["retry-worker-0"]["metadata"]["uid"] != first_uid   # a new Job for the replica
    operator.pod_ended("retry-worker-0", exit_code=2, suffix="second")   # a permanent code
    operator.step()
    final = operator.get("retry")["status"]["conditions"][-1]
    assert final["type"] == "Failed" and "worker-0 (exit code 2) failed" in final["message"]


def test_replicas_never_scheduled_fail_the_job_after_the_gang_timeout(kube_api, tmp_path):
    operator = Operator(kube_api, tmp_path, gang_timeout=1)
    operator.create(pytorchjob("unscheduled", ["python", "train.py"]))
    operator.step()
    time.sleep(1.2)   # no pod ever runs: the test server schedules nothing
    operator.step()
    final = operator.get("unscheduled")["status"]["conditions"][-1]
    assert final["type"] == "Failed"
    assert "master-0, worker-0 were not scheduled within the gang timeout of 1s" in final["message"]
    assert operator.jobs("unscheduled") == {}   # the replicas that waited are gone


def test_a_tfjob_gets_tf_config_with_the_services_dns_names(operator):
    operator.create(tfjob("tf", ["python", "train.py"], ps=1, workers=2))
    operator.step()
    config = json.loads(env_of(operator.jobs("tf")["tf-worker-1"])["TF_CONFIG"])
    assert config == {"cluster": {"ps": ["tf-ps-0.default.svc:2222"],
                                  "worker": ["tf-worker-0.default.svc:2222", "tf-worker-1.default.svc:2222"]},
                      "task": {"type": "worker", "index": 1}, "environment": "cloud"}


def test_a_refused_job_gets_a_failed_condition_and_no_replicas(operator):
    body = pytorchjob("refused", ["python", "train.py"])
    body["spec"]["pytorchReplicaSpecs"]["Worker"]["restartPolicy"] = "Sometimes"
    operator.create(body)
    operator.step()
    final = operator.get("refused")["status"]["conditions"][-1]
    assert final["type"] == "Failed" and "restartPolicy: Unsupported value 'Sometimes'" in final["message"]
    assert operator.jobs("refused") == {}


def test_deleting_the_job_removes_its_replicas(operator):
    operator.create(pytorchjob("gone", ["python", "train.py"]))
    operator.step()
    operator.custom.delete_namespaced_custom_object(GROUP, VERSION, "default", "pytorchjobs", "gone")
    operator.step()
    assert operator.jobs("gone") == {} and operator.engine.store.jobs() == []


def test_the_gang_barrier_waits_for_every_replica_and_names_the_missing_ones():
    ok = subprocess.run([sys.executable, "-m", "mlplatform.training.barrier", "--timeout", "5", "localhost"],
                        check=False, capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0 and "all 1 replicas are scheduled" in ok.stdout
    missing = subprocess.run([sys.executable, "-m", "mlplatform.training.barrier", "--timeout", "1", "localhost",
                              "job-worker-9.invalid"], check=False, capture_output=True, text=True, timeout=60)
    assert missing.returncode == 1
    assert "1 of 2 replicas were not scheduled within 1s: job-worker-9.invalid" in missing.stderr
