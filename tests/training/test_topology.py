"""The replicas of a job, their labels and the operator's env, read from parsed manifests."""

from __future__ import annotations

import json

from mlplatform.training.engine import ReplicaState, _succeeded
from mlplatform.training.spec import PYTORCH, TENSORFLOW, parse_job
from mlplatform.training.topology import JOB_ROLE_LABEL, environment, labels, replicas
from tests.training.helpers import pytorchjob, replica, tfjob


def at(host: str = "h"):
    return lambda member: (f"{host}-{member.type.lower()}-{member.index}", 1000 + member.rank)


def test_an_elastic_pytorchjob_hands_torchrun_its_rendezvous():
    body = pytorchjob("elastic", ["torchrun", "train.py"], workers=2)
    del body["spec"]["pytorchReplicaSpecs"]["Master"], body["spec"]["runPolicy"]
    body["spec"].update(nprocPerNode="2", elasticPolicy={"minReplicas": 1, "maxReplicas": 3, "maxRestarts": 5})
    job = parse_job(body, PYTORCH)
    members = replicas(job)
    env = environment(job, members[1], at())
    assert env["WORLD_SIZE"] == "4" and env["RANK"] == "1" and env["PET_NPROC_PER_NODE"] == "2"
    assert env["MASTER_ADDR"] == "h-worker-0" and env["PET_RDZV_ENDPOINT"] == "h-worker-0:1000"
    assert (env["PET_NNODES"], env["PET_RDZV_BACKEND"], env["PET_MAX_RESTARTS"]) == ("1:3", "c10d", "5")
    assert labels(job, members[0])[JOB_ROLE_LABEL] == "master" and JOB_ROLE_LABEL not in labels(job, members[1])
    assert job.run_policy.clean_pod_policy == "None"   # PyTorchJob's default


def test_a_tfjob_with_a_chief_is_led_by_it_and_evaluators_stay_out_of_the_cluster():
    body = tfjob("chief", ["python", "train.py"], ps=2, workers=2)
    body["spec"]["tfReplicaSpecs"]["Chief"] = replica(["python", "train.py"], container="tensorflow")
    body["spec"]["tfReplicaSpecs"]["Evaluator"] = replica(["python", "eval.py"], container="tensorflow")
    job = parse_job(body, TENSORFLOW)
    members = replicas(job)
    assert [(m.type, m.index) for m in members] == [("Chief", 0), ("PS", 0), ("PS", 1), ("Worker", 0),
                                                    ("Worker", 1), ("Evaluator", 0)]
    config = json.loads(environment(job, members[-1], at())["TF_CONFIG"])
    assert set(config["cluster"]) == {"chief", "ps", "worker"} and config["task"] == {"type": "evaluator", "index": 0}
    assert [m.type for m in members if labels(job, m).get(JOB_ROLE_LABEL)] == ["Chief"]
    assert job.run_policy.clean_pod_policy == "Running"   # TFJob's default

    states = {m: ReplicaState("Running") for m in members}
    states[members[3]] = ReplicaState("Succeeded", 0)      # worker 0 alone does not finish a job with a chief
    assert not _succeeded(job, states)
    states[members[0]] = ReplicaState("Succeeded", 0)
    assert _succeeded(job, states)


def test_without_a_master_a_pytorchjob_succeeds_when_every_worker_does():
    body = pytorchjob("workers", ["python", "train.py"], workers=2)
    del body["spec"]["pytorchReplicaSpecs"]["Master"]
    job = parse_job(body, PYTORCH)
    first, second = replicas(job)
    assert environment(job, second, at())["RANK"] == "1"
    assert not _succeeded(job, {first: ReplicaState("Succeeded", 0), second: ReplicaState("Running")})
    assert _succeeded(job, {first: ReplicaState("Succeeded", 0), second: ReplicaState("Succeeded", 0)})
