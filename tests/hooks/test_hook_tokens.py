"""The hooks against multi-user services (auth.mode kubernetes): they send the ServiceAccount token the chart
projects at $KF_PIPELINES_SA_TOKEN_PATH, and work in the release namespace. The real pipeline controller and
tuning service in token mode, and the pipeline controller in kubernetes mode against the test API server with
the Roles the staging chart renders for the register and validate hooks."""

from __future__ import annotations

import json
import sys
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from kfp import compiler

from mlplatform.checks.base import CheckContext
from mlplatform.checks.smoke import SmokePipelineCheck, smoke_experiment, smoke_pipeline
from mlplatform.hooks.config import HookConfig
from mlplatform.net import free_port
from tests.hooks.conftest import run_hook
from tests.security.multiuser import add_teams, call, kubernetes_mode, running, token_mode
from tests.support.chart_fixtures import environment_case

MULTI_USER = {"pipelineController": {"auth": {"mode": "kubernetes"}}, "tuningService": {"auth": {"mode": "kubernetes"}}}


@pytest.fixture(scope="module")
def package_url(tmp_path_factory):
    """The smoke pipeline's package, served over HTTP (a register source)."""
    directory = tmp_path_factory.mktemp("packages")
    compiler.Compiler().compile(smoke_pipeline, str(directory / "smoke.yaml"))
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), partial(SimpleHTTPRequestHandler, directory=str(directory)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/smoke.yaml"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def pipelines(tmp_path_factory):
    with running(token_mode("pipelines", tmp_path_factory.mktemp("pipelines-token"))) as service:
        yield service


@pytest.fixture(scope="module")
def tuning(tmp_path_factory):
    with running(token_mode("tuning", tmp_path_factory.mktemp("tuning-token"))) as service:
        yield service


def write_config(path: Path, services: dict[str, str], namespace: str, register: dict | None = None) -> Path:
    """hooks.json as the chart renders it, for services that are multi-user."""
    endpoints = {"platform": "kubernetes", "namespace": namespace, "release": "mlp", "services": services}
    values = {**MULTI_USER, "hooks": {"register": register or {}}}
    path.write_text(json.dumps({"release": "mlp", "namespace": namespace, "endpoints": endpoints, "values": values}))
    return path


def token_file(path: Path, token: str, monkeypatch) -> Path:
    path.write_text(token + "\n")
    monkeypatch.setenv("KF_PIPELINES_SA_TOKEN_PATH", str(path))
    return path


def pipeline_names(service, token: str, namespace: str) -> list[str]:
    listed = call(service, "GET", f"/apis/v2beta1/pipelines?namespace={namespace}", token)
    assert listed.status_code == 200, listed.text
    return [pipeline["display_name"] for pipeline in listed.json().get("pipelines") or []]


def test_register_sends_the_token_and_works_in_the_release_namespace(tmp_path, monkeypatch, pipelines, tuning,
                                                                     package_url):
    token_file(tmp_path / "token", "alice-token", monkeypatch)
    experiment = smoke_experiment("hooked-experiment", sys.executable, namespace="team-a")
    register = {"pipelines": [{"name": "hooked", "version": "v1", "source": package_url}], "experiments": [experiment]}
    config = write_config(tmp_path / "hooks.json", {"pipeline-controller": pipelines.url, "tuning-service": tuning.url},
                          "team-a", register)

    first = run_hook("register", "--config", str(config))
    assert first.returncode == 0, first.stdout + first.stderr
    assert "pipeline hooked v1: version v1 uploaded" in first.stdout
    assert "experiment hooked-experiment: submitted" in first.stdout
    assert pipeline_names(pipelines, "alice-token", "team-a") == ["hooked"]
    found = call(tuning, "GET", "/api/v1/experiments/hooked-experiment?namespace=team-a", "alice-token")
    assert found.status_code == 200, found.text

    again = run_hook("register", "--config", str(config))
    assert again.returncode == 0, again.stdout + again.stderr
    assert "pipeline hooked v1: version v1 exists" in again.stdout
    assert "experiment hooked-experiment: exists" in again.stdout


def test_register_without_the_token_file_names_its_path(tmp_path, monkeypatch, pipelines, tuning, package_url):
    missing = tmp_path / "no-such-dir" / "token"
    monkeypatch.setenv("KF_PIPELINES_SA_TOKEN_PATH", str(missing))
    register = {"pipelines": [{"name": "untokened", "source": package_url}],
                "experiments": [smoke_experiment("untokened", sys.executable, namespace="team-a")]}
    config = write_config(tmp_path / "hooks.json", {"pipeline-controller": pipelines.url, "tuning-service": tuning.url},
                          "team-a", register)

    result = run_hook("register", "--config", str(config))
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"pipeline untokened: no service account token at {missing}" in result.stdout
    assert f"experiment untokened: no service account token at {missing}" in result.stdout
    assert "untokened" not in pipeline_names(pipelines, "alice-token", "team-a")


def test_a_wrong_token_is_refused_by_the_service(tmp_path, monkeypatch, pipelines, package_url):
    token_file(tmp_path / "token", "forged-token", monkeypatch)
    register = {"pipelines": [{"name": "forged", "source": package_url}]}
    config = write_config(tmp_path / "hooks.json", {"pipeline-controller": pipelines.url}, "team-a", register)

    result = run_hook("register", "--config", str(config))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "pipeline forged: pipeline controller refused: HTTP 401" in result.stdout


def test_smoke_pipeline_sends_the_token_and_runs_in_the_release_namespace(tmp_path, monkeypatch, pipelines):
    token_file(tmp_path / "token", "bob-token", monkeypatch)
    config = HookConfig.read(write_config(tmp_path / "hooks.json", {"pipeline-controller": pipelines.url}, "team-b"))

    [result] = SmokePipelineCheck().run(CheckContext(config=config, smoke={"pipeline": True}))
    assert not result.failed, result.to_dict()
    experiments = call(pipelines, "GET", "/apis/v2beta1/experiments?namespace=team-b", "bob-token").json()
    assert "mlplatform-validate" in [item["display_name"] for item in experiments["experiments"]]


def test_smoke_pipeline_without_the_token_file_names_its_path(tmp_path, monkeypatch, pipelines):
    missing = tmp_path / "token"
    monkeypatch.setenv("KF_PIPELINES_SA_TOKEN_PATH", str(missing))
    config = HookConfig.read(write_config(tmp_path / "hooks.json", {"pipeline-controller": pipelines.url}, "team-b"))

    [result] = SmokePipelineCheck().run(CheckContext(config=config, smoke={"pipeline": True}))
    assert result.failed and f"no service account token at {missing}" in result.detail, result.to_dict()


# ---- kubernetes mode: the chart's Roles are what the SubjectAccessReview needs

def hook_grants(chart_suite, hook: str) -> list[dict]:
    """The Role and RoleBinding the staging chart renders for `hook` (release mlp, namespace mlplatform)."""
    return [obj for obj in chart_suite.objects(environment_case("staging").render)
            if obj["kind"] in ("Role", "RoleBinding") and obj["metadata"]["name"] == f"mlp-mlplatform-{hook}"]


def add_hook_account(cluster, chart_suite, hook: str) -> str:
    """The hook's RBAC on the test API server and a token for its ServiceAccount; returns the token."""
    for obj in hook_grants(chart_suite, hook):
        cluster.server.create(obj)
    token = f"{hook}-service-account-token"
    cluster.server.reviews.add_token(token, f"system:serviceaccount:mlplatform:mlp-mlplatform-{hook}",
                                     groups=["system:serviceaccounts", "system:serviceaccounts:mlplatform"])
    return token


def test_kubernetes_mode_the_hooks_roles_are_enough(kube_api, chart_suite, tmp_path, monkeypatch, package_url):
    cluster = kube_api
    add_teams(cluster.server)
    cluster.server.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "mlplatform"}})
    register_token = add_hook_account(cluster, chart_suite, "register")
    validate_token = add_hook_account(cluster, chart_suite, "validate")
    with running(kubernetes_mode("pipelines", tmp_path / "service", cluster.kubeconfig)) as service:
        services = {"pipeline-controller": service.url}
        register = {"pipelines": [{"name": "declared", "version": "v1", "source": package_url}]}
        config = write_config(tmp_path / "hooks.json", services, "mlplatform", register)

        token_file(tmp_path / "register-token", register_token, monkeypatch)
        registered = run_hook("register", "--config", str(config))
        assert registered.returncode == 0, registered.stdout + registered.stderr
        assert pipeline_names(service, register_token, "mlplatform") == ["declared"]

        token_file(tmp_path / "validate-token", validate_token, monkeypatch)
        [smoke] = SmokePipelineCheck().run(CheckContext(config=HookConfig.read(config), smoke={"pipeline": True}))
        assert not smoke.failed, smoke.to_dict()

        token_file(tmp_path / "alice-token", "alice-token", monkeypatch)   # edits team-a, not the release's
        refused = run_hook("register", "--config", str(write_config(tmp_path / "alice.json", services, "mlplatform",
                                                                     {"pipelines": [{"name": "x", "source": package_url}]})))
        assert refused.returncode == 1 and "HTTP 403" in refused.stdout, refused.stdout + refused.stderr
