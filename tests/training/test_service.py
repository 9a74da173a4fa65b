"""The operator as a service: local gang admission, activeDeadlineSeconds and ttlSecondsAfterFinished, a
restart that finds its running replicas again, metrics, multi-user mode, and cluster mode's command line."""

from __future__ import annotations

import pytest
import requests
from kubernetes import client

from mlplatform.kube import api_client
from mlplatform.kubeapi.kubeconfig import write_kubeconfig
from tests.support.polling import wait_for
from tests.support.service_process import ServiceProcess
from tests.training.helpers import pytorchjob
from tests.training.test_local_jobs import GROUP, VERSION, conditions, finished


@pytest.fixture
def private(tmp_path):
    """A private training operator: (service, CustomObjectsApi), started with the given extra flags."""
    started, clients = [], []

    def start(*args: str, env: dict | None = None):
        service = ServiceProcess("training", tmp_path / f"operator-{len(started)}", max_parallel=3, args=args,
                                 env=env).start()
        started.append(service)
        made = api_client(str(write_kubeconfig(tmp_path / f"kubeconfig-{len(started)}", service.url)))
        clients.append(made)
        return service, client.CustomObjectsApi(made)

    yield start
    for made in clients:
        made.close()
    for service in started:
        service.stop()
    for service in started:
        assert "Traceback" not in service.logs(), service.logs()[-4000:]


def create(custom, body):
    return custom.create_namespaced_custom_object(GROUP, VERSION, body["metadata"]["namespace"], "pytorchjobs", body)


def test_a_job_starts_only_when_every_replica_fits_then_runs_them_together(private):
    _, custom = private()
    create(custom, pytorchjob("first", ["/bin/sh", "-c", "sleep 6"], workers=1))   # 2 of 3 slots
    create(custom, pytorchjob("second", ["true"], workers=1))                        # needs 2: waits
    wait_for(lambda: "Running" in conditions(custom, "first"), what="first to run")
    assert set(conditions(custom, "second")) == {"Created"}
    assert "startTime" not in custom.get_namespaced_custom_object(GROUP, VERSION, "default", "pytorchjobs",
                                                                  "second")["status"]
    assert wait_for(lambda: finished(custom, "second"), what="second to finish")["type"] == "Succeeded"
    assert finished(custom, "first")["type"] == "Succeeded"


def test_active_deadline_fails_a_job_and_ttl_deletes_a_finished_one(private):
    _, custom = private()
    create(custom, pytorchjob("too-long", ["/bin/sh", "-c", "sleep 60"], activeDeadlineSeconds=1))
    done = wait_for(lambda: finished(custom, "too-long"), what="the deadline")
    assert done["type"] == "Failed" and "active longer than specified deadline" in done["message"]
    create(custom, pytorchjob("short-lived", ["true"], ttlSecondsAfterFinished=1))
    wait_for(lambda: finished(custom, "short-lived"), what="short-lived to finish")
    names = lambda: [j["metadata"]["name"] for j in
                     custom.list_namespaced_custom_object(GROUP, VERSION, "default", "pytorchjobs")["items"]]
    wait_for(lambda: "short-lived" not in names(), what="ttlSecondsAfterFinished to delete the job")
    assert "too-long" in names()


def test_a_restarted_operator_finds_its_jobs_and_running_replicas(private):
    service, custom = private()
    create(custom, pytorchjob("survivor", ["/bin/sh", "-c", "sleep 4"]))
    wait_for(lambda: "Running" in conditions(custom, "survivor"), what="the job to run")
    service.kill()
    service.start()
    assert wait_for(lambda: finished(custom, "survivor"), what="the job to finish")["type"] == "Succeeded"
    metrics = requests.get(f"{service.url}/metrics", timeout=10).text
    assert 'mlp_training_jobs{kind="PyTorchJob",state="Succeeded"} 1.0' in metrics


def test_multi_user_mode_needs_a_token_allowed_in_the_namespace(private, tmp_path):
    tokens = tmp_path / "tokens.csv"
    tokens.write_text("alice-token,alice,team-a\n")
    service, _ = private("--auth-mode", "token", "--auth-tokens", str(tokens))
    url = f"{service.url}/apis/{GROUP}/{VERSION}/namespaces/team-a/pytorchjobs"
    assert requests.get(url, timeout=10).status_code == 401
    alice = {"Authorization": "Bearer alice-token"}
    assert requests.get(url, headers=alice, timeout=10).status_code == 200
    other = requests.get(url.replace("team-a", "team-b"), headers=alice, timeout=10)
    assert other.status_code == 403 and other.json()["reason"] == "Forbidden"
    pods = requests.get(f"{service.url}/api/v1/namespaces/team-b/pods", headers=alice, timeout=10)
    assert pods.status_code == 403


def test_cluster_mode_command_adopts_job_objects_and_makes_their_replicas(private, kube_api):
    kube_api.server.add_crd(GROUP, VERSION, "PyTorchJob", status_subresource=True)
    kube_api.server.add_crd(GROUP, VERSION, "TFJob", status_subresource=True)
    private("--runner", "kubernetes", "--watch-namespaces", "default", "--gang-timeout", "30",
            env={"KUBECONFIG": str(kube_api.kubeconfig)})
    cluster = kube_api.api_client()
    custom, batch = client.CustomObjectsApi(cluster), client.BatchV1Api(cluster)
    created = create(custom, pytorchjob("in-cluster", ["python", "train.py"]))
    jobs = wait_for(lambda: batch.list_namespaced_job(
        "default", label_selector="training.kubeflow.org/job-name=in-cluster").items or None, what="replica Jobs")
    assert {job.metadata.owner_references[0].uid for job in jobs} == {created["metadata"]["uid"]}
    assert "--timeout" in jobs[0].spec.template.spec.init_containers[0].command
    wait_for(lambda: "Created" in conditions(custom, "in-cluster"), what="the status subresource to be written")
    custom.delete_namespaced_custom_object(GROUP, VERSION, "default", "pytorchjobs", "in-cluster")
    wait_for(lambda: not batch.list_namespaced_job(
        "default", label_selector="training.kubeflow.org/job-name=in-cluster").items, what="the replicas to go")
