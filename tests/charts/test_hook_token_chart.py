"""The platform's own callers in multi-user mode: the register and validate hook Jobs get a projected
ServiceAccount token (no audience: the API server's, which the services' TokenReview accepts) and a Role for the
services' SubjectAccessReview in the release namespace, only for a service whose auth.mode is kubernetes; the
tuning service's ServiceAccount may run pipeline-run trials' runs in the namespaces it watches and in every
profile (applied to the test API server and asked through SubjectAccessReviews)."""

from __future__ import annotations

import pytest
from kubernetes import utils

from mlplatform.auth import PIPELINE_EXPERIMENTS, PIPELINE_RUNS, PIPELINES, KubernetesAuth, User
from mlplatform.values.charts import Render
from tests.support.chart_fixtures import (
    KUBERNETES_VERSIONS,
    RENDER_CASES,
    environment_case,
    validation_errors,
)

TOKEN_PATH = "/var/run/secrets/kubeflow/pipelines/token"
KFP = "pipelines.kubeflow.org"
HOOKS = ["register", "validate"]
RELEASE = "mlp-mlplatform"


def named(objects: list[dict], kind: str, name: str) -> dict | None:
    return next((obj for obj in objects if obj["kind"] == kind and obj["metadata"]["name"] == name), None)


def token_of(job: dict) -> tuple[list, list, list]:
    """The Job's projected token volume, its mount, and KF_PIPELINES_SA_TOKEN_PATH."""
    pod = job["spec"]["template"]["spec"]
    container = pod["containers"][0]
    volumes = [volume for volume in pod["volumes"] if "projected" in volume]
    mounts = [mount for mount in container["volumeMounts"] if mount["name"] == "platform-token"]
    env = [item for item in container["env"] if item["name"] == "KF_PIPELINES_SA_TOKEN_PATH"]
    return volumes, mounts, env


def caller_rules(objects: list[dict], hook: str) -> list[dict]:
    role = named(objects, "Role", f"{RELEASE}-{hook}")
    return [rule for rule in (role or {}).get("rules", []) if rule["apiGroups"] != [""] and rule["apiGroups"] != ["apps"]]


def assert_token_and_grants(objects: list[dict], hook: str, expected_rules: list[dict]) -> None:
    job = named(objects, "Job", f"{RELEASE}-{hook}")
    volumes, mounts, env = token_of(job)
    assert volumes == [{"name": "platform-token", "projected": {"sources": [
        {"serviceAccountToken": {"path": "token", "expirationSeconds": 3600}}]}}]
    assert mounts == [{"name": "platform-token", "mountPath": "/var/run/secrets/kubeflow/pipelines", "readOnly": True}]
    assert env == [{"name": "KF_PIPELINES_SA_TOKEN_PATH", "value": TOKEN_PATH}]
    assert caller_rules(objects, hook) == expected_rules
    binding = named(objects, "RoleBinding", f"{RELEASE}-{hook}")
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": job["spec"]["template"]["spec"]["serviceAccountName"],
                                    "namespace": "mlplatform"}]
    for obj in (job, named(objects, "Role", f"{RELEASE}-{hook}"), binding):
        for version in KUBERNETES_VERSIONS:
            assert validation_errors(obj, version) == [], (obj["kind"], version)


REGISTER_RULES = [{"apiGroups": [KFP], "resources": ["pipelines"], "verbs": ["get", "list", "create"]},
                  {"apiGroups": ["kubeflow.org"], "resources": ["experiments"], "verbs": ["get", "create"]}]
VALIDATE_RULES = [{"apiGroups": [KFP], "resources": ["experiments"], "verbs": ["get", "list", "create"]},
                  {"apiGroups": [KFP], "resources": ["runs"], "verbs": ["get", "create"]},
                  {"apiGroups": ["kubeflow.org"], "resources": ["experiments"], "verbs": ["get", "create"]}]


@pytest.mark.parametrize("environment", ["staging", "prod"])
def test_multi_user_environments_give_the_hooks_a_token_and_the_grants(chart_suite, environment):
    objects = chart_suite.objects(environment_case(environment).render)
    assert_token_and_grants(objects, "register", REGISTER_RULES)
    assert_token_and_grants(objects, "validate", VALIDATE_RULES)


@pytest.mark.parametrize("environment", ["dev"])
def test_open_environments_give_the_hooks_neither(chart_suite, environment):
    objects = chart_suite.objects(environment_case(environment).render)
    for hook in HOOKS:
        assert token_of(named(objects, "Job", f"{RELEASE}-{hook}")) == ([], [], [])
        assert caller_rules(objects, hook) == []
    assert named(objects, "Role", f"{RELEASE}-register") is None   # register still calls no API


def test_only_the_multi_user_service_is_granted(chart_suite):
    """The pipeline controller multi-user, the tuning service open: KFP's resources only."""
    render = Render("mlplatform", (environment_case("dev").render.values_files[0],),
                    set_values=("pipelineController.auth.mode=kubernetes",))
    objects = chart_suite.objects(render)
    assert_token_and_grants(objects, "register", REGISTER_RULES[:1])
    assert_token_and_grants(objects, "validate", VALIDATE_RULES[:2])


def pipeline_rules(objects: list[dict]) -> list[dict]:
    role = next(obj for obj in objects if obj["kind"] == "Role" and obj["metadata"]["name"].endswith("-controller"))
    return [rule for rule in role["rules"] if rule["apiGroups"] == [KFP]]


def test_the_tuning_service_may_run_pipeline_trials_in_watched_namespaces_when_multi_user(chart_suite):
    namespaces = ("controller.namespaces={team-a,team-b}",)
    multi_user = chart_suite.objects(Render("tuning-service", set_values=("auth.mode=kubernetes", *namespaces)))
    roles = [obj for obj in multi_user if obj["kind"] == "Role" and obj["metadata"]["name"].endswith("-controller")]
    assert sorted(role["metadata"]["namespace"] for role in roles) == ["team-a", "team-b"]
    assert pipeline_rules(multi_user) == [
        {"apiGroups": [KFP], "resources": ["runs"], "verbs": ["get", "create", "update"]},
        {"apiGroups": [KFP], "resources": ["experiments"], "verbs": ["get", "list", "create"]},
        {"apiGroups": [KFP], "resources": ["pipelines"], "verbs": ["get", "list"]}]
    assert pipeline_rules(chart_suite.objects(Render("tuning-service", set_values=namespaces))) == []


PROFILES = next(case for case in RENDER_CASES if case.id == "mlplatform/default")   # ci: profiles team-a and team-b
TUNING = User("system:serviceaccount:mlplatform:mlp-tuning-service")
PIPELINE_CONTROLLER = User("system:serviceaccount:mlplatform:mlp-pipeline-controller")


def applied_profiles(chart_suite, kube_api, *set_values: str) -> KubernetesAuth:
    """The profiles' objects of the umbrella render, on the test API server; its SubjectAccessReviews."""
    render = Render("mlplatform", PROFILES.render.values_files, set_values=set_values)
    objects = [obj for obj in chart_suite.objects(render)
               if obj["kind"] == "Namespace" or obj["metadata"].get("namespace") in ("team-a", "team-b")]
    api = kube_api.api_client()
    for obj in sorted(objects, key=lambda obj: obj["kind"] != "Namespace"):
        utils.create_from_dict(api, obj)
    return KubernetesAuth(api)


def test_a_multi_user_tuning_service_may_run_pipeline_trials_in_every_profile(chart_suite, kube_api):
    auth = applied_profiles(chart_suite, kube_api, "tuningService.auth.mode=kubernetes")
    for namespace in ("team-a", "team-b"):
        assert auth.allowed(TUNING, "create", PIPELINE_RUNS, namespace)
        assert auth.allowed(TUNING, "create", PIPELINE_EXPERIMENTS, namespace)
        assert auth.allowed(TUNING, "list", PIPELINES, namespace)
    assert not auth.allowed(TUNING, "delete", PIPELINE_RUNS, "team-a")
    assert not auth.allowed(TUNING, "create", PIPELINE_RUNS, "default")
    assert not auth.allowed(PIPELINE_CONTROLLER, "create", PIPELINE_RUNS, "team-a")


def test_an_open_tuning_service_gets_no_pipeline_grants_in_profiles(chart_suite, kube_api):
    auth = applied_profiles(chart_suite, kube_api)
    assert not auth.allowed(TUNING, "create", PIPELINE_RUNS, "team-a")
