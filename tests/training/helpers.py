"""Job manifests for the tests: real scripts under tests/training/scripts run by the platform's Python."""

from __future__ import annotations

import sys
from pathlib import Path

SCRIPTS = Path(__file__).parent / "scripts"


def replica(command: list[str], replicas: int = 1, restart_policy: str = "Never", container: str = "pytorch") -> dict:
    return {"replicas": replicas, "restartPolicy": restart_policy,
            "template": {"spec": {"containers": [{"name": container, "image": "docker.io/pytorch/pytorch:2.4.0",
                                                  "command": command}]}}}


def script(name: str, *args: str) -> list[str]:
    return [sys.executable, str(SCRIPTS / name), *args]


def pytorchjob(name: str, command: list[str], workers: int = 1, restart_policy: str = "Never",
               namespace: str = "default", **run_policy) -> dict:
    return {
        "apiVersion": "kubeflow.org/v1",
        "kind": "PyTorchJob",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "runPolicy": {"cleanPodPolicy": "Running", **run_policy},
            "pytorchReplicaSpecs": {
                "Master": replica(command, 1, restart_policy),
                "Worker": replica(command, workers, restart_policy),
            },
        },
    }


def tfjob(name: str, command: list[str], ps: int = 1, workers: int = 2, namespace: str = "default") -> dict:
    return {
        "apiVersion": "kubeflow.org/v1",
        "kind": "TFJob",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "tfReplicaSpecs": {
                "PS": replica(command, ps, container="tensorflow"),
                "Worker": replica(command, workers, container="tensorflow"),
            },
        },
    }
