"""Kubernetes access through the official client: in-cluster config in a pod, a kubeconfig elsewhere.

Every module that talks to Kubernetes gets its ApiClient here, so tests can point all of them at
the test API server with one kubeconfig.
"""

from __future__ import annotations

import os

from kubernetes import client, config
from kubernetes.config.config_exception import ConfigException

from mlplatform.errors import ConfigError

NAMESPACE_FILE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"


def api_client(kubeconfig: str | None = None, context: str | None = None) -> client.ApiClient:
    """An ApiClient: the given kubeconfig/context, else in-cluster, else $KUBECONFIG or ~/.kube/config."""
    if kubeconfig or context or "KUBERNETES_SERVICE_HOST" not in os.environ:
        try:
            # $KUBECONFIG read now: the client reads it once, when it is imported.
            return config.new_client_from_config(config_file=kubeconfig or os.environ.get("KUBECONFIG") or None,
                                                 context=context)
        except (ConfigException, FileNotFoundError) as error:
            raise ConfigError(f"cannot load kubeconfig {kubeconfig or '(default)'}: {error}") from None
    cfg = client.Configuration()
    config.load_incluster_config(client_configuration=cfg)
    return client.ApiClient(cfg)


def api_client_for_url(url: str) -> client.ApiClient:
    """An ApiClient for a server known only by its URL, without credentials: a local-mode service that
    answers the Kubernetes REST paths (the training operator, the tuning service)."""
    configuration = client.Configuration()
    configuration.host = url.rstrip("/")
    return client.ApiClient(configuration)


def request_timeout(seconds: float) -> tuple[float, float]:
    """The `_request_timeout` for `seconds`: (connect, read). The client takes only an int or a 2-tuple and
    silently ignores a float (no timeout at all), so always pass this."""
    return (float(seconds), float(seconds))


def current_namespace(default: str = "default") -> str:
    """The pod's namespace in a cluster; POD_NAMESPACE or HELM_NAMESPACE when set; else `default`."""
    for variable in ("POD_NAMESPACE", "HELM_NAMESPACE"):
        if os.environ.get(variable):
            return os.environ[variable]
    if os.path.exists(NAMESPACE_FILE):
        with open(NAMESPACE_FILE) as handle:
            return handle.read().strip()
    return default
