"""What the multi-user tests share: users, their tokens and RoleBindings on the test API server, the real
services started in token or kubernetes mode, and one way to call them with a bearer token.

    alice   edits team-a (a RoleBinding)             token alice-token
    bob     views team-b (through group team-b-viewers)  token bob-token
    admin   edits every namespace (a ClusterRoleBinding, kubernetes mode; both teams in token mode)
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import requests

from tests.support.service_process import ServiceProcess

RBAC = "rbac.authorization.k8s.io/v1"
KUBEFLOW_RULES = [
    {"apiGroups": ["pipelines.kubeflow.org"], "resources": ["runs", "experiments", "pipelines"]},
    {"apiGroups": ["kubeflow.org"], "resources": ["experiments"]},
]
TOKENS = "# token,user,namespaces\nalice-token,alice,team-a\nbob-token,bob,team-b\nadmin-token,admin,team-a;team-b\n"


def role(name: str, verbs: list[str]) -> dict:
    return {"apiVersion": RBAC, "kind": "ClusterRole", "metadata": {"name": name},
            "rules": [{**rule, "verbs": verbs} for rule in KUBEFLOW_RULES]}


def binding(kind: str, name: str, role_name: str, subjects: list[dict], namespace: str = "") -> dict:
    metadata = {"name": name, **({"namespace": namespace} if namespace else {})}
    return {"apiVersion": RBAC, "kind": kind, "metadata": metadata, "subjects": subjects,
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role_name}}


def add_teams(server) -> None:
    """team-a: alice and its pipeline-runner ServiceAccount edit; team-b: group team-b-viewers views;
    admin edits everywhere."""
    for namespace in ("team-a", "team-b"):
        server.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    server.create(role("kubeflow-edit", ["get", "list", "create", "update", "delete"]))
    server.create(role("kubeflow-view", ["get", "list"]))
    server.create(binding("RoleBinding", "alice-edit", "kubeflow-edit", [{"kind": "User", "name": "alice"}], "team-a"))
    server.create(binding("RoleBinding", "runner-edit", "kubeflow-edit",
                          [{"kind": "ServiceAccount", "name": "pipeline-runner", "namespace": "team-a"}], "team-a"))
    server.create(binding("RoleBinding", "viewers", "kubeflow-view", [{"kind": "Group", "name": "team-b-viewers"}],
                          "team-b"))
    server.create(binding("ClusterRoleBinding", "admin-edit", "kubeflow-edit", [{"kind": "User", "name": "admin"}]))
    server.reviews.add_token("alice-token", "alice")
    server.reviews.add_token("bob-token", "bob", groups=["team-b-viewers"])
    server.reviews.add_token("admin-token", "admin")


def bearer(token: str | None) -> dict:
    return {"Authorization": f"Bearer {token}"} if token else {}


def call(service, method: str, path: str, token: str | None = None, **kwargs) -> requests.Response:
    return requests.request(method, service.url + path, headers=bearer(token), timeout=30, **kwargs)


def token_mode(service: str, workdir: Path, *args: str) -> ServiceProcess:
    """`mlp serve <service> --auth-mode token` with TOKENS, started."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "tokens.csv").write_text(TOKENS)
    return ServiceProcess(service, workdir, max_parallel=1,
                          args=["--auth-mode", "token", "--auth-tokens", str(workdir / "tokens.csv"), *args]).start()


def kubernetes_mode(service: str, workdir: Path, kubeconfig: Path, *args: str, env: dict | None = None) -> ServiceProcess:
    """`mlp serve <service> --auth-mode kubernetes` against the test API server, started."""
    return ServiceProcess(service, workdir, max_parallel=1, args=["--auth-mode", "kubernetes", *args],
                          env={"KUBECONFIG": str(kubeconfig), **(env or {})}).start()


@contextlib.contextmanager
def running(service: ServiceProcess):
    """Stop the service afterwards and check that it logged no traceback."""
    try:
        yield service
    finally:
        service.stop()
    assert "Traceback" not in service.logs(), service.logs()[-6000:]
