"""The `kube_api` fixture: a test Kubernetes API server for one test (tests/support/kubeapi/).

    def test_something(kube_api):
        core = client.CoreV1Api(kube_api.api_client())
        core.create_namespaced_config_map("default", {"metadata": {"name": "settings"}, "data": {"a": "1"}})
        kube_api.helm(3, "install", "demo", str(chart), "--namespace", "default", "--wait")

`kube_api` has:
  - `url`: the server's base URL (http://127.0.0.1:<port>);
  - `kubeconfig`: a Path to a kubeconfig for it; the fixture also sets KUBECONFIG (and unsets
    KUBERNETES_SERVICE_HOST), so `mlplatform.kube.api_client()` without arguments reaches it;
  - `api_client()`: a new kubernetes ApiClient from that kubeconfig (`mlplatform.kube.api_client`);
  - `helm(major, *args, check=True, timeout=120)`: runs helm 3 or helm 4 with that kubeconfig and
    HELM_CACHE_HOME / HELM_CONFIG_HOME / HELM_DATA_HOME of this test; returns the CompletedProcess
    (text), and with `check` raises AssertionError with helm's output when it fails;
  - `server`: the KubeApiServer, for test-only helpers:
      `server.run_jobs = True`   Jobs (and Pods with restartPolicy Never/OnFailure) run their commands as
                                 local processes; Job status, pods and pods/log follow (executor.py);
      `server.kubelet = True`    Deployments, StatefulSets, ReplicaSets, DaemonSets, PVCs and Pods become
                                 ready at once, so `helm --wait` and readiness checks pass (kubelet.py);
      `server.set_version("v1.29.4")`, `server.set_pod_log(namespace, pod, text, container=None)`,
      `server.add_crd(group, version, kind, plural=None, namespaced=True, status_subresource=False)`,
      `server.create(obj)`, `server.get(api_version, kind, name, namespace="")`,
      `server.objects(api_version, kind, namespace=None)`, `server.requests` (method, path of every
      request), `server.compact()` (watches from older resourceVersions get 410 Gone).
Both switches are off by default. The cluster starts with the namespaces default, kube-system,
kube-public and kube-node-lease and nothing else; there is no RBAC enforcement.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from kubernetes import client

from mlplatform.kube import api_client
from mlplatform.tools import helm_binary
from tests.support.kubeapi import KubeApiServer


@dataclass
class KubeApi:
    server: KubeApiServer
    home: Path
    _clients: list[client.ApiClient] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def kubeconfig(self) -> Path:
        return self.server.kubeconfig

    def api_client(self) -> client.ApiClient:
        made = api_client(str(self.kubeconfig))
        self._clients.append(made)
        return made

    def helm_env(self, major: int) -> dict[str, str]:
        home = self.home / f"helm{major}"
        env = {**os.environ, "KUBECONFIG": str(self.kubeconfig), "HELM_CACHE_HOME": str(home / "cache"),
               "HELM_CONFIG_HOME": str(home / "config"), "HELM_DATA_HOME": str(home / "data")}
        for variable in ("HELM_NAMESPACE", "HELM_KUBECONTEXT", "HELM_DRIVER", "KUBERNETES_SERVICE_HOST"):
            env.pop(variable, None)
        return env

    def helm(self, major: int, *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
        command = [str(helm_binary(major)), *args]
        result = subprocess.run(command, env=self.helm_env(major), capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"helm {major} {' '.join(args)} exited {result.returncode}:\n"
                                 f"{result.stdout}{result.stderr}")
        return result

    def close(self) -> None:
        for made in self._clients:
            made.close()


@pytest.fixture
def kube_api(tmp_path_factory, monkeypatch):
    workdir = tmp_path_factory.mktemp("kube-api")
    server = KubeApiServer(workdir / "server").start()
    monkeypatch.setenv("KUBECONFIG", str(server.kubeconfig))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    api = KubeApi(server, workdir)
    try:
        yield api
    finally:
        api.close()
        server.stop()
