"""Multi-user mode (issue 14): every allow and deny path of TokenReview + SubjectAccessReview, through the
real kubernetes client against the test API server (which authenticates its static tokens and evaluates
the RBAC objects it holds), and the FastAPI dependency's 401 and 403."""

from __future__ import annotations

import pytest
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient
from kubernetes import client

from mlplatform.auth import (
    KATIB_EXPERIMENTS,
    PIPELINE_EXPERIMENTS,
    PIPELINE_RUNS,
    PIPELINES,
    AuthFailed,
    KubernetesAuth,
    Resource,
    TokenAuth,
    User,
    require,
)

ALICE, BOB, ADMIN = User("alice"), User("bob", ("team-b-viewers",)), User("admin")
RUNNER = User("system:serviceaccount:team-a:pipeline-runner")


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def auth(cluster, clock):
    return KubernetesAuth(cluster.api_client(), cache_seconds=10, clock=clock)


def test_token_review_accepts_known_tokens_only(auth):
    assert auth.authenticate("alice-token") == User("alice", ("system:authenticated",))
    assert auth.authenticate("bob-token").groups == ("team-b-viewers", "system:authenticated")
    assert auth.authenticate("forged-token") is None


MATRIX = [
    # who, verb, resource, namespace, allowed — and why
    (ALICE, "list", PIPELINE_RUNS, "team-a", True),            # RoleBinding in her namespace
    (ALICE, "create", PIPELINE_RUNS, "team-a", True),
    (ALICE, "delete", PIPELINE_EXPERIMENTS, "team-a", True),
    (ALICE, "update", PIPELINES, "team-a", True),
    (ALICE, "create", KATIB_EXPERIMENTS, "team-a", True),
    (ALICE, "list", PIPELINE_RUNS, "team-b", False),           # cross-namespace
    (ALICE, "get", KATIB_EXPERIMENTS, "team-b", False),
    (BOB, "list", PIPELINE_RUNS, "team-b", True),              # through his group
    (BOB, "get", KATIB_EXPERIMENTS, "team-b", True),
    (BOB, "create", PIPELINE_RUNS, "team-b", False),           # a viewer does not write
    (BOB, "delete", KATIB_EXPERIMENTS, "team-b", False),
    (BOB, "list", PIPELINE_RUNS, "team-a", False),
    (ADMIN, "delete", PIPELINE_RUNS, "team-b", True),          # ClusterRoleBinding: every namespace
    (ADMIN, "create", KATIB_EXPERIMENTS, "team-a", True),
    (RUNNER, "create", PIPELINE_RUNS, "team-a", True),         # the namespace's ServiceAccount
    (RUNNER, "create", PIPELINE_RUNS, "team-b", False),
    (ALICE, "list", Resource("kubeflow.org", "runs"), "team-a", False),   # not a resource the role names
    (User("mallory"), "list", PIPELINE_RUNS, "team-a", False),            # bound nowhere
]


@pytest.mark.parametrize("user, verb, resource, namespace, allowed", MATRIX,
                         ids=[f"{u.username.split(':')[-1]}-{v}-{r.plural}.{r.group.split('.')[0]}-{n}"
                              for u, v, r, n, _ in MATRIX])
def test_subject_access_review(auth, user, verb, resource, namespace, allowed):
    assert auth.allowed(user, verb, resource, namespace) is allowed


def test_answers_are_cached_briefly(auth, cluster, clock):
    counts = cluster.server.reviews.counts
    for _ in range(3):
        assert auth.authenticate("alice-token") and auth.allowed(ALICE, "list", PIPELINE_RUNS, "team-a")
    assert counts == {"tokenreviews": 1, "subjectaccessreviews": 1}
    clock.now += 11
    assert auth.authenticate("alice-token") and auth.allowed(ALICE, "list", PIPELINE_RUNS, "team-a")
    assert counts == {"tokenreviews": 2, "subjectaccessreviews": 2}


def test_a_revoked_binding_denies_once_the_cache_expires(auth, cluster, clock):
    assert auth.allowed(ALICE, "get", PIPELINE_RUNS, "team-a")
    client.RbacAuthorizationV1Api(cluster.api_client()).delete_namespaced_role_binding("alice-edit", "team-a")
    assert auth.allowed(ALICE, "get", PIPELINE_RUNS, "team-a")    # cached
    clock.now += 11
    assert not auth.allowed(ALICE, "get", PIPELINE_RUNS, "team-a")


def service_with(auth) -> TestClient:
    """A router guarded the way the services guard theirs: one dependency per router."""
    app = FastAPI()
    runs = APIRouter(prefix="/runs", dependencies=[Depends(require(auth, PIPELINE_RUNS))])

    @runs.get("")
    def list_runs(request: Request, namespace: str = ""):
        return {"user": request.state.user.username, "namespace": namespace}

    @runs.post("")
    def create_run(namespace: str = ""):
        return {"created": namespace}

    @runs.post("/{run_id}:terminate")
    def terminate(run_id: str, namespace: str = ""):
        return {}

    app.include_router(runs)

    @app.exception_handler(AuthFailed)
    async def refused(_request, error: AuthFailed):
        return JSONResponse({"error": str(error)}, status_code=error.status)

    return TestClient(app)


HTTP_MATRIX = [
    # method, path, token, status
    ("GET", "/runs?namespace=team-a", None, 401),
    ("GET", "/runs?namespace=team-a", "forged-token", 401),
    ("GET", "/runs?namespace=team-a", "alice-token", 200),
    ("POST", "/runs?namespace=team-a", "alice-token", 200),
    ("POST", "/runs/r1:terminate?namespace=team-a", "alice-token", 200),
    ("GET", "/runs?namespace=team-b", "alice-token", 403),
    ("GET", "/runs", "alice-token", 403),                  # no namespace: "default", which is not hers
    ("GET", "/runs?namespace=team-b", "bob-token", 200),
    ("POST", "/runs?namespace=team-b", "bob-token", 403),
    ("POST", "/runs/r1:terminate?namespace=team-b", "bob-token", 403),
]


@pytest.mark.parametrize("method, path, token, status", HTTP_MATRIX)
def test_the_dependency_answers_401_and_403(auth, method, path, token, status):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = service_with(auth).request(method, path, headers=headers)
    assert response.status_code == status, response.text
    if status == 403:
        assert "may not" in response.json()["error"] and "runs.pipelines.kubeflow.org" in response.json()["error"]


def test_token_mode_for_local_use_and_tests(tmp_path):
    tokens = tmp_path / "tokens.csv"
    tokens.write_text("# token,user,namespaces\nalice-token,alice,team-a;shared\nbob-token,bob,team-b\n")
    auth = TokenAuth.from_file(tokens)
    assert auth.authenticate("alice-token") == User("alice") and auth.authenticate("nope") is None
    assert auth.allowed(User("alice"), "delete", PIPELINE_RUNS, "shared")
    assert not auth.allowed(User("alice"), "get", PIPELINE_RUNS, "team-b")
    client = service_with(auth)
    assert client.get("/runs?namespace=team-b", headers={"Authorization": "Bearer bob-token"}).status_code == 200
    assert client.get("/runs?namespace=team-a", headers={"Authorization": "Bearer bob-token"}).status_code == 403


def test_a_malformed_token_file_is_refused(tmp_path):
    bad = tmp_path / "tokens.csv"
    bad.write_text("alice-token,alice\n")
    with pytest.raises(ValueError, match="tokens.csv:1: expected token,user,namespace"):
        TokenAuth.from_file(bad)
