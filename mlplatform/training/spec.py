"""PyTorchJob and TFJob (`kubeflow.org/v1`): reading a manifest into a `TrainingJob`, refusing what the
Training Operator's CRD schema or its validation would refuse, with every problem named.

Defaults are the Training Operator's: replicas 1, restartPolicy Never, the default container port
(pytorchjob-port 23456, tfjob-port 2222), cleanPodPolicy None for PyTorchJob and Running for TFJob,
nprocPerNode "auto" (one process per node here: CPU only).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass

from mlplatform.kubeapi.errors import BadRequest, Invalid

GROUP, VERSION = "kubeflow.org", "v1"
API_VERSION = f"{GROUP}/{VERSION}"
# The Kubernetes API paths the operator answers in local mode (the jobs, and core/v1 pods and their logs).
KUBE_API_PATHS = (f"/apis/{GROUP}/{VERSION}/", "/api/v1/namespaces/", "/api/v1")
NAME_PATTERN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
RESTART_POLICIES = ("Always", "OnFailure", "Never", "ExitCode")
CLEAN_POD_POLICIES = ("All", "Running", "None")
RUN_POLICY_FIELDS = {"cleanPodPolicy", "ttlSecondsAfterFinished", "activeDeadlineSeconds", "backoffLimit",
                     "schedulingPolicy", "suspend", "managedBy"}
REPLICA_FIELDS = {"replicas", "template", "restartPolicy"}
ELASTIC_FIELDS = {"minReplicas", "maxReplicas", "rdzvBackend", "rdzvPort", "rdzvHost", "rdzvId", "rdzvConf",
                  "standalone", "nProcPerNode", "maxRestarts", "metrics"}
# A pod name <job>-<type>-<index> must stay a DNS label.
MAX_NAME_LENGTH = 48


@dataclass(frozen=True)
class Flavour:
    """What differs between the kinds: the replica spec key, the replica types, the container and port."""

    kind: str
    plural: str
    replica_key: str
    replica_types: tuple[str, ...]
    container: str
    port_name: str
    default_port: int
    spec_fields: frozenset[str]
    clean_pod_policy: str

    @property
    def reason_prefix(self) -> str:
        return self.kind


PYTORCH = Flavour("PyTorchJob", "pytorchjobs", "pytorchReplicaSpecs", ("Master", "Worker"), "pytorch",
                  "pytorchjob-port", 23456,
                  frozenset({"runPolicy", "pytorchReplicaSpecs", "elasticPolicy", "nprocPerNode"}), "None")
TENSORFLOW = Flavour("TFJob", "tfjobs", "tfReplicaSpecs", ("Chief", "Master", "PS", "Worker", "Evaluator"),
                     "tensorflow", "tfjob-port", 2222,
                     frozenset({"runPolicy", "tfReplicaSpecs", "successPolicy", "enableDynamicWorker"}), "Running")
FLAVOURS = {flavour.kind: flavour for flavour in (PYTORCH, TENSORFLOW)}


@dataclass(frozen=True)
class ReplicaSpec:
    type: str                  # as written in the spec: Master, Worker, PS, Chief, Evaluator
    replicas: int
    restart_policy: str
    template: dict             # the pod template

    @property
    def label(self) -> str:
        """The replica type as labels and pod names carry it: lowercase."""
        return self.type.lower()


@dataclass(frozen=True)
class RunPolicy:
    clean_pod_policy: str
    backoff_limit: int | None
    active_deadline_seconds: int | None
    ttl_seconds_after_finished: int | None


@dataclass(frozen=True)
class TrainingJob:
    flavour: Flavour
    manifest: dict             # with defaults applied
    replica_specs: tuple[ReplicaSpec, ...]   # in rank order: Master/Chief first
    run_policy: RunPolicy
    nproc_per_node: int
    elastic: dict | None

    @property
    def name(self) -> str:
        return self.manifest["metadata"]["name"]

    @property
    def namespace(self) -> str:
        return self.manifest["metadata"]["namespace"]

    @property
    def kind(self) -> str:
        return self.flavour.kind

    @property
    def total_replicas(self) -> int:
        return sum(spec.replicas for spec in self.replica_specs)

    def replica_spec(self, replica_type: str) -> ReplicaSpec | None:
        return next((spec for spec in self.replica_specs if spec.type == replica_type), None)


def parse_job(body, flavour: Flavour) -> TrainingJob:
    """The job, or BadRequest (not an object, unknown fields) / Invalid (bad values) naming every problem."""
    if not isinstance(body, dict):
        raise BadRequest(f"the body must be a {flavour.kind} object")
    manifest = copy.deepcopy(body)
    _refuse_unknown(manifest, flavour)
    problems: list[str] = []
    metadata = manifest.get("metadata") or {}
    name = metadata.get("name", "")
    if not NAME_PATTERN.match(name) or len(name) > MAX_NAME_LENGTH:
        problems.append(f"metadata.name: {name!r} must be a lowercase DNS label of at most {MAX_NAME_LENGTH} "
                        "characters (pods are named <job>-<replica type>-<index>)")
    spec = manifest.get("spec")
    if not isinstance(spec, dict):
        raise Invalid(f"{flavour.kind}.spec is required", ["spec: Required value"])
    replicas = _replica_specs(spec, flavour, problems)
    run_policy = _run_policy(spec.setdefault("runPolicy", {}), flavour, problems)
    nproc = _nproc_per_node(spec, flavour, problems)
    elastic = _elastic(spec, flavour, problems)
    if problems:
        raise Invalid(f"{flavour.kind}.{GROUP} {name!r} is invalid: " + "; ".join(problems), problems)
    return TrainingJob(flavour, manifest, replicas, run_policy, nproc, elastic)


def _refuse_unknown(manifest: dict, flavour: Flavour) -> None:
    """What a strict field validation refuses (kubectl's default): fields the CRD schema does not have."""
    unknown = sorted(f"{key}" for key in manifest if key not in ("apiVersion", "kind", "metadata", "spec", "status"))
    spec = manifest.get("spec")
    if isinstance(spec, dict):
        unknown += sorted(f"spec.{key}" for key in spec if key not in flavour.spec_fields)
        if isinstance(spec.get("runPolicy"), dict):
            unknown += sorted(f"spec.runPolicy.{key}" for key in spec["runPolicy"] if key not in RUN_POLICY_FIELDS)
        if isinstance(spec.get("elasticPolicy"), dict):
            unknown += sorted(f"spec.elasticPolicy.{key}" for key in spec["elasticPolicy"] if key not in ELASTIC_FIELDS)
        for replica_type, replica in (spec.get(flavour.replica_key) or {}).items() if isinstance(
                spec.get(flavour.replica_key), dict) else ():
            if isinstance(replica, dict):
                unknown += sorted(f"spec.{flavour.replica_key}.{replica_type}.{key}"
                                  for key in replica if key not in REPLICA_FIELDS)
    if unknown:
        raise BadRequest(f'{flavour.kind} in version "{VERSION}" cannot be handled: strict decoding error: '
                         + ", ".join(f'unknown field "{field}"' for field in unknown),
                         [f'unknown field "{field}"' for field in unknown])


def _replica_specs(spec: dict, flavour: Flavour, problems: list[str]) -> tuple[ReplicaSpec, ...]:
    key = flavour.replica_key
    given = spec.get(key)
    if not isinstance(given, dict) or not given:
        problems.append(f"spec.{key}: Required value: at least one of {', '.join(flavour.replica_types)}")
        return ()
    result = []
    for replica_type in flavour.replica_types:   # rank order
        if replica_type in given:
            replica = _replica(given[replica_type], f"spec.{key}.{replica_type}", flavour, problems)
            if replica is not None:
                result.append(ReplicaSpec(replica_type, *replica))
    for replica_type in given:
        if replica_type not in flavour.replica_types:
            problems.append(f"spec.{key}.{replica_type}: Unsupported value: replica types are "
                            f"{', '.join(flavour.replica_types)}")
    _check_topology(given, flavour, problems)
    return tuple(result)


def _replica(replica, path: str, flavour: Flavour, problems: list[str]):
    if not isinstance(replica, dict):
        problems.append(f"{path}: must be an object with replicas, template and restartPolicy")
        return None
    count = replica.setdefault("replicas", 1)
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        problems.append(f"{path}.replicas: {count!r} must be a non-negative integer")
    policy = replica.setdefault("restartPolicy", "Never")
    if policy not in RESTART_POLICIES:
        problems.append(f"{path}.restartPolicy: Unsupported value {policy!r}: one of {', '.join(RESTART_POLICIES)}")
    template = replica.get("template")
    container = _default_container(template, path, flavour, problems)
    if container is not None:
        _set_default_port(container, flavour)
    valid = not (isinstance(count, bool) or not isinstance(count, int) or count < 0) and container is not None
    return (count, policy, template) if valid and policy in RESTART_POLICIES else None


def _default_container(template, path: str, flavour: Flavour, problems: list[str]) -> dict | None:
    containers = ((template or {}).get("spec") or {}).get("containers") if isinstance(template, dict) else None
    if not isinstance(containers, list) or not containers or not all(isinstance(c, dict) for c in containers):
        problems.append(f"{path}.template.spec.containers: Required value: a list of containers")
        return None
    found = next((c for c in containers if c.get("name") == flavour.container), None)
    if found is None:
        problems.append(f"{path}.template.spec.containers: there must be a container named {flavour.container!r} "
                        f"(the {flavour.kind} default container)")
        return None
    if not found.get("image"):
        problems.append(f"{path}.template.spec.containers[{flavour.container}].image: Required value")
    for field in ("command", "args"):
        value = found.get(field)
        if value is not None and (not isinstance(value, list) or not all(isinstance(v, str) for v in value)):
            problems.append(f"{path}.template.spec.containers[{flavour.container}].{field}: must be a list of strings")
    return found


def _set_default_port(container: dict, flavour: Flavour) -> None:
    ports = container.setdefault("ports", [])
    if isinstance(ports, list) and not any(isinstance(p, dict) and p.get("name") == flavour.port_name for p in ports):
        ports.append({"name": flavour.port_name, "containerPort": flavour.default_port, "protocol": "TCP"})


def _check_topology(given: dict, flavour: Flavour, problems: list[str]) -> None:
    def count(replica_type: str) -> int:
        replica = given.get(replica_type)
        value = replica.get("replicas", 1) if isinstance(replica, dict) else 0
        return value if isinstance(value, int) else 0

    key = flavour.replica_key
    if flavour is PYTORCH and "Master" in given and count("Master") != 1:
        problems.append(f"spec.{key}.Master.replicas: must be 1 (one master, rank 0)")
    if flavour is TENSORFLOW:
        for single in ("Chief", "Master"):
            if single in given and count(single) > 1:
                problems.append(f"spec.{key}.{single}.replicas: must be at most 1")
        if "Chief" in given and "Master" in given:
            problems.append(f"spec.{key}: Chief and Master cannot both be set")
    if sum(count(t) for t in given if t in flavour.replica_types) == 0:
        problems.append(f"spec.{key}: the job has no replicas")


def _run_policy(policy, flavour: Flavour, problems: list[str]) -> RunPolicy:
    if not isinstance(policy, dict):
        problems.append("spec.runPolicy: must be an object")
        policy = {}
    clean = policy.setdefault("cleanPodPolicy", flavour.clean_pod_policy)
    if clean not in CLEAN_POD_POLICIES:
        problems.append(f"spec.runPolicy.cleanPodPolicy: Unsupported value {clean!r}: one of "
                        f"{', '.join(CLEAN_POD_POLICIES)}")
    numbers = {}
    for field, minimum in (("backoffLimit", 0), ("activeDeadlineSeconds", 1), ("ttlSecondsAfterFinished", 0)):
        value = policy.get(field)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < minimum):
            problems.append(f"spec.runPolicy.{field}: {value!r} must be an integer >= {minimum}")
            value = None
        numbers[field] = value
    if policy.get("suspend"):
        problems.append("spec.runPolicy.suspend: suspending a job is not supported here")
    return RunPolicy(clean, numbers["backoffLimit"], numbers["activeDeadlineSeconds"],
                     numbers["ttlSecondsAfterFinished"])


def _nproc_per_node(spec: dict, flavour: Flavour, problems: list[str]) -> int:
    if flavour is not PYTORCH:
        return 1
    value = spec.get("nprocPerNode", "auto")
    if value in ("auto", "cpu"):
        return 1
    text = str(value)
    if not text.isdigit() or int(text) < 1:
        problems.append(f"spec.nprocPerNode: {value!r} must be a positive integer, 'auto' or 'cpu' "
                        "(no GPUs here: 'gpu' is refused)")
        return 1
    return int(text)


def _elastic(spec: dict, flavour: Flavour, problems: list[str]) -> dict | None:
    policy = spec.get("elasticPolicy")
    if flavour is not PYTORCH or policy is None:
        return None
    if not isinstance(policy, dict):
        problems.append("spec.elasticPolicy: must be an object")
        return None
    workers = ((spec.get(flavour.replica_key) or {}).get("Worker") or {}).get("replicas", 1)
    low, high = policy.get("minReplicas", workers), policy.get("maxReplicas", workers)
    for field, value in (("minReplicas", low), ("maxReplicas", high)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            problems.append(f"spec.elasticPolicy.{field}: {value!r} must be a positive integer")
            return None
    if low > high:
        problems.append(f"spec.elasticPolicy: minReplicas ({low}) must not exceed maxReplicas ({high})")
    if isinstance(workers, int) and not low <= workers <= high:
        problems.append(f"spec.{flavour.replica_key}.Worker.replicas: {workers} must lie within "
                        f"elasticPolicy minReplicas..maxReplicas ({low}..{high})")
    return {**policy, "minReplicas": low, "maxReplicas": high}
