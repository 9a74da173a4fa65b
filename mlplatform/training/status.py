"""The job status as the Training Operator writes it: conditions, replicaStatuses, startTime and
completionTime.

Conditions are Created, Running, Restarting, Succeeded and Failed, with reasons `<Kind>Created`,
`<Kind>Running`, ... and messages such as "PyTorchJob default/mnist is running.". As in the operator,
Running and Restarting replace each other and a final condition ends both; the one replaced stays in
the list with status "False" (the operator drops a replaced Restarting), so a restart stays visible.
"""

from __future__ import annotations

import time

CREATED, RUNNING, RESTARTING, SUCCEEDED, FAILED = "Created", "Running", "Restarting", "Succeeded", "Failed"
FINAL = (SUCCEEDED, FAILED)


def timestamp(epoch: float | None = None) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() if epoch is None else epoch))


def condition_of(status: dict, kind: str) -> dict | None:
    for condition in status.get("conditions") or []:
        if condition["type"] == kind and condition["status"] == "True":
            return condition
    return None


def is_finished(status: dict) -> bool:
    return any(condition_of(status, kind) for kind in FINAL)


def set_condition(status: dict, kind: str, job_kind: str, message: str, reason: str | None = None) -> bool:
    """Make `kind` the current condition; returns False when it already was, with that reason and message."""
    reason = reason or f"{job_kind}{kind}"
    conditions = status.setdefault("conditions", [])
    current = next((c for c in conditions if c["type"] == kind), None)
    if current and current["status"] == "True" and current["reason"] == reason and current["message"] == message:
        return False
    now = timestamp()
    replaced = {RUNNING: (RESTARTING,), RESTARTING: (RUNNING,)}.get(kind, (RUNNING, RESTARTING))
    for c in conditions:
        if c["type"] in replaced and c["status"] == "True" and kind != CREATED:
            c.update(status="False", lastUpdateTime=now, lastTransitionTime=now)
    conditions[:] = [c for c in conditions if c["type"] != kind]
    conditions.append({"type": kind, "status": "True", "reason": reason, "message": message,
                       "lastUpdateTime": now, "lastTransitionTime": now})
    return True


def replica_statuses(job, states: dict) -> dict:
    """{"Master": {"active": 1, "succeeded": 0, "failed": 0, "selector": ...}, ...}: pods by phase per type."""
    result = {}
    for spec in job.replica_specs:
        counts = {"active": 0, "succeeded": 0, "failed": 0}
        for replica, state in states.items():
            if replica.type == spec.type:
                key = {"Running": "active", "Pending": "active", "Succeeded": "succeeded", "Failed": "failed"}
                counts[key[state.phase]] += 1
        counts["selector"] = (f"training.kubeflow.org/job-name={job.name},"
                              f"training.kubeflow.org/operator-name={job.flavour.container}job-controller,"
                              f"training.kubeflow.org/replica-type={spec.type.lower()}")
        result[spec.type] = {key: value for key, value in counts.items() if value}
    return result


def job_event(kind: str, namespace: str, name: str, uid: str, condition: dict) -> dict:
    """The core/v1 Event the operator records for a condition (Warning for Failed and Restarting)."""
    moment = condition["lastTransitionTime"]
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": f"{name}.{uid[:8]}.{condition['type'].lower()}.{_compact(moment)}",
                     "namespace": namespace, "creationTimestamp": moment},
        "involvedObject": {"apiVersion": "kubeflow.org/v1", "kind": kind, "name": name, "namespace": namespace,
                           "uid": uid},
        "reason": condition["reason"],
        "message": condition["message"],
        "type": "Warning" if condition["type"] in (FAILED, RESTARTING) else "Normal",
        "count": 1,
        "firstTimestamp": moment,
        "lastTimestamp": moment,
        "source": {"component": f"{'pytorch' if kind == 'PyTorchJob' else 'tensorflow'}job-controller"},
    }


def _compact(moment: str) -> str:
    return "".join(char for char in moment if char.isdigit())
