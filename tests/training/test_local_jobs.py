"""Local replicas through the Kubernetes API shape: a DDP training run, restart policies when a worker is
killed, and a TFJob's TF_CONFIG. Driven with the real kubernetes client and TrainingClient."""

from __future__ import annotations

import json
import os
import signal

import pytest
from kubeflow.training import TrainingClient
from kubernetes import client

from tests.support.polling import wait_for
from tests.training.helpers import SCRIPTS, pytorchjob, script, tfjob

GROUP, VERSION = "kubeflow.org", "v1"


def conditions(custom: client.CustomObjectsApi, name: str, plural: str = "pytorchjobs") -> dict[str, dict]:
    job = custom.get_namespaced_custom_object(GROUP, VERSION, "default", plural, name)
    return {c["type"]: c for c in (job.get("status") or {}).get("conditions") or []}


def finished(custom, name: str, plural: str = "pytorchjobs") -> dict | None:
    found = conditions(custom, name, plural)
    done = [found[kind] for kind in ("Succeeded", "Failed") if found.get(kind, {}).get("status") == "True"]
    return done[0] if done else None


def pid_in_log(core: client.CoreV1Api, pod: str) -> int:
    def read():
        try:
            text = core.read_namespaced_pod_log(pod, "default", container="pytorch")
        except client.ApiException:
            return None
        return next((int(line.split()[1]) for line in text.splitlines() if line.startswith("pid ")), None)

    return wait_for(read, what=f"{pod} to log its pid")


@pytest.mark.slow
def test_a_small_ddp_training_run_succeeds(kube):
    pytest.importorskip("torch", reason="the [training] extra")
    custom = client.CustomObjectsApi(kube)
    custom.create_namespaced_custom_object(GROUP, VERSION, "default", "pytorchjobs",
                                           pytorchjob("ddp", script("ddp.py")))
    done = wait_for(lambda: finished(custom, "ddp"), timeout=120, what="the DDP job to finish")
    log = client.CoreV1Api(kube).read_namespaced_pod_log("ddp-master-0", "default")
    assert done["type"] == "Succeeded", (done, log)
    assert done["reason"] == "PyTorchJobSucceeded" and "rank 0/2" in log and "weight 3.00 bias 1.00" in log


@pytest.mark.parametrize("policy, outcome", [("Never", "Failed"), ("OnFailure", "Succeeded"),
                                             ("ExitCode", "Succeeded")])
def test_killing_a_worker_fails_or_restarts_the_job_per_restart_policy(kube, tmp_path, policy, outcome):
    custom, core = client.CustomObjectsApi(kube), client.CoreV1Api(kube)
    name = f"kill-{policy.lower()}"
    custom.create_namespaced_custom_object(GROUP, VERSION, "default", "pytorchjobs", pytorchjob(
        name, script("replica.py", str(tmp_path)), restart_policy=policy, backoffLimit=2))
    pid_in_log(core, f"{name}-master-0")
    os.kill(pid_in_log(core, f"{name}-worker-0"), signal.SIGKILL)

    done = wait_for(lambda: finished(custom, name), what=f"{name} to finish")
    assert done["type"] == outcome, done
    seen = conditions(custom, name)
    if outcome == "Failed":
        assert "worker-0 (exit code 137) failed" in done["message"] and "Restarting" not in seen
        assert core.list_namespaced_pod("default", label_selector=f"training.kubeflow.org/job-name={name},"
                                        "training.kubeflow.org/replica-type=master").items == []  # cleanPodPolicy
    else:
        assert "worker-0 failed" in seen["Restarting"]["message"] and seen["Restarting"]["status"] == "False"
        pod = core.read_namespaced_pod(f"{name}-master-0", "default")   # the gang restarted together
        assert pod.status.container_statuses[0].restart_count == 1
    custom.delete_namespaced_custom_object(GROUP, VERSION, "default", "pytorchjobs", name)


def test_a_permanent_exit_code_fails_an_exitcode_job_without_restart(kube):
    custom = client.CustomObjectsApi(kube)
    failing = ["/bin/sh", "-c", 'test "$RANK" = 0 && sleep 60; exit 3']
    custom.create_namespaced_custom_object(GROUP, VERSION, "default", "pytorchjobs",
                                           pytorchjob("exit-three", failing, restart_policy="ExitCode"))
    done = wait_for(lambda: finished(custom, "exit-three"), what="exit-three to finish")
    assert done["type"] == "Failed" and "exit code 3" in done["message"]
    assert "Restarting" not in conditions(custom, "exit-three")


def test_a_tfjob_gets_tf_config_with_its_cluster_and_task(kubeconfig):
    sdk = TrainingClient(config_file=str(kubeconfig), namespace="default", job_kind="TFJob")
    custom = sdk.custom_api
    custom.create_namespaced_custom_object(GROUP, VERSION, "default", "tfjobs", tfjob("tf-config", script("tf_config.py")))
    done = wait_for(lambda: finished(custom, "tf-config", "tfjobs"), what="the TFJob to finish")
    assert done["type"] == "Succeeded" and done["reason"] == "TFJobSucceeded"
    assert sdk.get_job_pod_names("tf-config", is_master=True) == ["tf-config-worker-0"]  # no chief: worker 0
    logs, _ = sdk.get_job_logs("tf-config", is_master=False)
    configs = {pod: json.loads(text.split("TF_CONFIG ", 1)[1]) for pod, text in logs.items()}
    assert set(configs) == {"tf-config-ps-0", "tf-config-worker-0", "tf-config-worker-1"}
    cluster = configs["tf-config-worker-0"]["cluster"]
    assert set(cluster) == {"ps", "worker"} and len(cluster["ps"]) == 1 and len(cluster["worker"]) == 2
    addresses = cluster["ps"] + cluster["worker"]
    assert len(set(addresses)) == 3 and all(a.startswith("127.0.0.1:") for a in addresses)
    for pod, config in configs.items():
        _, replica_type, index = pod.rsplit("-", 2)
        assert config["cluster"] == cluster and config["environment"] == "cloud"
        assert config["task"] == {"type": replica_type, "index": int(index)}
    sdk.delete_job("tf-config")


@pytest.mark.slow
def test_torchrun_reads_the_pet_variables_two_nodes_of_two_processes(kube):
    pytest.importorskip("torch", reason="the [training] extra")
    custom = client.CustomObjectsApi(kube)
    body = pytorchjob("torchrun", ["torchrun", str(SCRIPTS / "allreduce.py")], cleanPodPolicy="None")  # keep the worker
    body["spec"]["nprocPerNode"] = "2"
    custom.create_namespaced_custom_object(GROUP, VERSION, "default", "pytorchjobs", body)
    done = wait_for(lambda: finished(custom, "torchrun"), timeout=180, what="the torchrun job to finish")
    core = client.CoreV1Api(kube)
    wait_for(lambda: core.read_namespaced_pod("torchrun-worker-0", "default").status.phase == "Succeeded",
             what="the worker, which may end after the master, to end")
    log = core.read_namespaced_pod_log("torchrun-worker-0", "default")
    assert done["type"] == "Succeeded", (done, log)
    assert "all-reduce sum 10" in log and "/4 pid" in log   # ranks 0..3 add 1+2+3+4
