"""Who can read MinIO's root credentials, on the rendered dev, staging and prod manifests (issue 14).

The goal is MinIO alone, plus the one hook that provisions a MinIO user and policy per component. Until
that lands, every S3 client of the platform reads the root Secret; this test pins today's readers, so that
no new pod (a new component, a hook, the task pods the runners create through MLP_S3_SECRET) starts reading
it unnoticed, and so that the list can only shrink.
"""

from __future__ import annotations

import pytest

from tests.charts.test_policy import pod_spec, who, workloads
from tests.support.chart_fixtures import environment_case

# Today's readers besides MinIO itself. Each leaves this set when it gets a MinIO user of its own.
READERS_TODAY = {"pipeline-controller", "tuning-service", "model-registry", "hook:register", "hook:validate"}
# Through their controller's ConfigMap (MLP_S3_SECRET), the task pods the Kubernetes runner creates read it too.
PASSES_IT_TO_TASKS_TODAY = {"pipeline-controller", "tuning-service"}


def root_secret(objects: list[dict]) -> str:
    """The Secret MinIO's StatefulSet takes MINIO_ROOT_USER from."""
    minio = next(obj for obj in workloads(objects) if who(obj) == "minio")
    for container in pod_spec(minio)["containers"]:
        for variable in container.get("env", []):
            if variable["name"] == "MINIO_ROOT_USER":
                return variable["valueFrom"]["secretKeyRef"]["name"]
    raise AssertionError("MinIO's StatefulSet takes MINIO_ROOT_USER from no Secret")


def secrets_read(workload: dict) -> set[str]:
    """Every Secret a pod can read: env, envFrom, volumes (projected ones too)."""
    spec = pod_spec(workload)
    names = set()
    for container in spec["containers"] + spec.get("initContainers", []):
        names |= {var["valueFrom"]["secretKeyRef"]["name"] for var in container.get("env", [])
                  if "secretKeyRef" in var.get("valueFrom", {})}
        names |= {source["secretRef"]["name"] for source in container.get("envFrom", []) if "secretRef" in source}
    for volume in spec.get("volumes", []):
        if "secret" in volume:
            names.add(volume["secret"]["secretName"])
        for source in volume.get("projected", {}).get("sources", []):
            if "secret" in source:
                names.add(source["secret"]["name"])
    return names


def passed_to_tasks(objects: list[dict], secret: str) -> set[str]:
    """Components whose ConfigMap hands the Secret's name to the task pods they create (MLP_S3_SECRET)."""
    return {obj["metadata"]["labels"]["app.kubernetes.io/name"] for obj in objects
            if obj["kind"] == "ConfigMap" and (obj.get("data") or {}).get("MLP_S3_SECRET") == secret}


@pytest.mark.parametrize("environment", ["dev", "staging", "prod"])
def test_only_the_known_pods_read_the_root_secret(chart_suite, environment):
    objects = chart_suite.objects(environment_case(environment).render)
    secret = root_secret(objects)
    readers = {who(workload) for workload in workloads(objects) if secret in secrets_read(workload)}
    assert "minio" in readers, f"MinIO's own pods do not read {secret}"
    assert readers - {"minio"} <= READERS_TODAY, f"new readers of {secret}: {sorted(readers - READERS_TODAY)}"
    assert passed_to_tasks(objects, secret) <= PASSES_IT_TO_TASKS_TODAY
