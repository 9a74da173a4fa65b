"""A Kubernetes-API-compatible HTTP server for tests: the official Python client and helm 3 / helm 4
work against it through a kubeconfig. Start it with `KubeApiServer(workdir)` (see server.py) or use the
`kube_api` fixture (tests/support/kube_fixtures.py).

Modules: resources (served types, discovery), store (objects, versions, watches), admission (defaults,
validation), patch (merge, strategic merge, JSON patch, apply), handler (HTTP), executor (Jobs run as
local processes), kubelet (workloads become ready).
"""

from tests.support.kubeapi.server import DEFAULT_VERSION, KubeApiServer

__all__ = ["DEFAULT_VERSION", "KubeApiServer"]
