"""A kubeconfig that points Kubernetes clients (Katib's SDK, kubectl) at a service that answers the
Kubernetes API shape itself, such as the tuning service in local mode."""

from __future__ import annotations

import os
from pathlib import Path

import yaml

CONTEXT = "mlplatform-local"


def kubeconfig(server: str, namespace: str = "default") -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": CONTEXT, "cluster": {"server": server.rstrip("/")}}],
        "users": [{"name": CONTEXT, "user": {}}],
        "contexts": [{"name": CONTEXT, "context": {"cluster": CONTEXT, "user": CONTEXT, "namespace": namespace}}],
        "current-context": CONTEXT,
        "preferences": {},
    }


def write_kubeconfig(path: Path, server: str, namespace: str = "default") -> Path:
    """Write it (mode 0600, as kubectl does) and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(yaml.safe_dump(kubeconfig(server, namespace), sort_keys=False))
    os.chmod(temporary, 0o600)
    temporary.replace(path)
    return path
