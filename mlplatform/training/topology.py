"""Each replica of a job and the environment the Training Operator gives it.

PyTorchJob: MASTER_ADDR, MASTER_PORT, WORLD_SIZE (replicas x nprocPerNode), RANK (the master is 0, worker i
is i+1), LOCAL_RANK, PYTHONUNBUFFERED, and torchrun's PET_NNODES, PET_NPROC_PER_NODE, PET_NODE_RANK,
PET_MASTER_ADDR, PET_MASTER_PORT (an elasticPolicy adds PET_RDZV_BACKEND, PET_RDZV_ENDPOINT and
PET_NNODES=min:max). Without a Master, worker 0 is the master address.

TFJob: TF_CONFIG = {"cluster": {"chief": [...], "ps": [...], "worker": [...]}, "task": {"type", "index"},
"environment": "cloud"}; evaluators are not part of the cluster, as in the Training Operator.

Where a replica is reached (`Address`) is the engine's business: 127.0.0.1 and a free port locally, the
replica's headless Service in a cluster.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from mlplatform.training.spec import PYTORCH, TrainingJob

JOB_NAME_LABEL = "training.kubeflow.org/job-name"
REPLICA_TYPE_LABEL = "training.kubeflow.org/replica-type"
REPLICA_INDEX_LABEL = "training.kubeflow.org/replica-index"
JOB_ROLE_LABEL = "training.kubeflow.org/job-role"
OPERATOR_NAME_LABEL = "training.kubeflow.org/operator-name"
MASTER_ROLE_TYPES = ("Master", "Chief")


@dataclass(frozen=True)
class Replica:
    type: str       # as in the spec: Master, Worker, PS, Chief, Evaluator
    index: int
    rank: int       # place in the job: 0 for the master (PyTorch RANK and PET_NODE_RANK)

    def pod_name(self, job_name: str) -> str:
        return f"{job_name}-{self.type.lower()}-{self.index}"


Address = Callable[[Replica], tuple[str, int]]   # replica -> (host, port)


def replicas(job: TrainingJob) -> list[Replica]:
    """Every replica, in rank order (Master/Chief first)."""
    found, rank = [], 0
    for spec in job.replica_specs:
        for index in range(spec.replicas):
            found.append(Replica(spec.type, index, rank))
            rank += 1
    return found


def master(job: TrainingJob) -> Replica:
    """Rank 0: the Master (PyTorch), the Chief or Master (TF), else worker 0."""
    return replicas(job)[0]


def labels(job: TrainingJob, replica: Replica) -> dict[str, str]:
    found = {
        JOB_NAME_LABEL: job.name,
        REPLICA_TYPE_LABEL: replica.type.lower(),
        REPLICA_INDEX_LABEL: str(replica.index),
        OPERATOR_NAME_LABEL: f"{job.flavour.container}job-controller",
    }
    if _is_master(job, replica):
        found[JOB_ROLE_LABEL] = "master"
    return found


def _is_master(job: TrainingJob, replica: Replica) -> bool:
    types = {spec.type for spec in job.replica_specs}
    if replica.type in MASTER_ROLE_TYPES:
        return True
    return not types & set(MASTER_ROLE_TYPES) and replica.type == "Worker" and replica.index == 0


def environment(job: TrainingJob, replica: Replica, address: Address) -> dict[str, str]:
    if job.flavour is PYTORCH:
        return _pytorch_env(job, replica, address)
    return {"TF_CONFIG": json.dumps(tf_config(job, replica, address), separators=(",", ":"))}


def _pytorch_env(job: TrainingJob, replica: Replica, address: Address) -> dict[str, str]:
    host, port = address(master(job))
    nodes = job.total_replicas
    env = {
        "PYTHONUNBUFFERED": "1",
        "MASTER_ADDR": host,
        "MASTER_PORT": str(port),
        "WORLD_SIZE": str(nodes * job.nproc_per_node),
        "RANK": str(replica.rank),
        "LOCAL_RANK": "0",
        "PET_MASTER_ADDR": host,
        "PET_MASTER_PORT": str(port),
        "PET_NNODES": str(nodes),
        "PET_NPROC_PER_NODE": str(job.nproc_per_node),
        "PET_NODE_RANK": str(replica.rank),
    }
    if job.elastic is not None:
        env.update({
            "PET_RDZV_BACKEND": str(job.elastic.get("rdzvBackend", "c10d")),
            "PET_RDZV_ENDPOINT": f"{host}:{port}",
            "PET_NNODES": f"{job.elastic['minReplicas']}:{job.elastic['maxReplicas']}",
        })
        if job.elastic.get("maxRestarts") is not None:
            env["PET_MAX_RESTARTS"] = str(job.elastic["maxRestarts"])
    return env


def tf_config(job: TrainingJob, replica: Replica, address: Address) -> dict:
    cluster: dict[str, list[str]] = {}
    for member in replicas(job):
        if member.type == "Evaluator":
            continue
        host, port = address(member)
        cluster.setdefault(member.type.lower(), []).append(f"{host}:{port}")
    return {"cluster": cluster, "task": {"type": replica.type.lower(), "index": replica.index},
            "environment": "cloud"}


def container_port(job: TrainingJob, replica_type: str) -> int:
    """The default container's port named pytorchjob-port / tfjob-port (spec.py sets the default)."""
    spec = job.replica_spec(replica_type)
    container = default_container(job, spec.template)
    return next(int(p["containerPort"]) for p in container["ports"] if p.get("name") == job.flavour.port_name)


def default_container(job: TrainingJob, template: dict) -> dict:
    return next(c for c in template["spec"]["containers"] if c.get("name") == job.flavour.container)
