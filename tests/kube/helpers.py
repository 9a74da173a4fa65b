"""Objects and waiting helpers shared by the tests of the test Kubernetes API server."""

from __future__ import annotations

import json

from kubernetes import client


def status_of(error: client.ApiException) -> dict:
    """The Kubernetes Status body of a failed call."""
    return json.loads(error.body)


def deployment(name: str, env: list[dict] | None = None, labels: dict | None = None) -> dict:
    labels = labels or {"app": name}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "labels": labels},
            "spec": {"replicas": 2, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": "app", "image": "example/app:1",
                                                           "env": env or [{"name": "A", "value": "1"}],
                                                           "ports": [{"containerPort": 8080, "name": "http"}]}]}}}}


def job(name: str, script: str, **spec) -> dict:
    """A Job whose single container runs `sh -c script`."""
    container = {"name": "main", "image": "example/runner:1", "command": ["sh", "-c", script]}
    template_spec = {"restartPolicy": "Never", "containers": [container]}
    template_spec.update(spec.pop("pod", {}))
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
            "spec": {"backoffLimit": 0, "template": {"spec": template_spec}, **spec}}
