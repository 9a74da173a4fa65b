"""values.profiles end to end (issue 14): the umbrella's rendered profile objects (Namespace, Roles,
RoleBindings, ServiceAccount, ResourceQuota) applied to the test API server through the real kubernetes
client; then mlplatform.auth's SubjectAccessReviews grant exactly what the profiles say."""

from __future__ import annotations

import pytest
from kubernetes import utils

from mlplatform.auth import KATIB_EXPERIMENTS, PIPELINE_RUNS, PIPELINES, KubernetesAuth, Resource, User
from mlplatform.values.charts import Render
from tests.support.chart_fixtures import RENDER_CASES

DEFAULT = next(case for case in RENDER_CASES if case.id == "mlplatform/default")   # ci: team-a edits, team-b views


@pytest.fixture
def profiles_applied(chart_suite, kube_api):
    objects = [obj for obj in chart_suite.objects(DEFAULT.render)
               if obj["kind"] == "Namespace" or obj["metadata"].get("namespace") in ("team-a", "team-b")]
    api = kube_api.api_client()
    for obj in sorted(objects, key=lambda obj: obj["kind"] != "Namespace"):
        utils.create_from_dict(api, obj)
    return objects, KubernetesAuth(api)


def test_each_profile_is_a_namespace_with_its_runner_account_and_quota(profiles_applied):
    objects, _ = profiles_applied
    found = {(obj["kind"], obj["metadata"].get("namespace", ""), obj["metadata"]["name"]) for obj in objects}
    assert {("Namespace", "", "team-a"), ("ServiceAccount", "team-a", "mlp-team-a-runner"),
            ("ResourceQuota", "team-a", "mlp-team-a"), ("ServiceAccount", "team-b", "mlp-team-b-runner")} <= found
    assert ("ResourceQuota", "team-b", "mlp-team-b") not in found   # no quota asked for


ALICE, TEAM_A, VIEWER = User("alice@example.com"), User("carol", ("team-a",)), User("dave", ("team-b-viewers",))
RUNNER = User("system:serviceaccount:mlplatform:mlp-pipeline-controller")


@pytest.mark.parametrize("user, verb, resource, namespace, allowed", [
    (ALICE, "create", PIPELINE_RUNS, "team-a", True),
    (ALICE, "delete", KATIB_EXPERIMENTS, "team-a", True),
    (TEAM_A, "update", PIPELINES, "team-a", True),
    (ALICE, "list", PIPELINE_RUNS, "team-b", False),
    (VIEWER, "list", PIPELINE_RUNS, "team-b", True),
    (VIEWER, "get", KATIB_EXPERIMENTS, "team-b", True),
    (VIEWER, "create", PIPELINE_RUNS, "team-b", False),
    (VIEWER, "get", PIPELINE_RUNS, "team-a", False),
], ids=lambda value: value.username.split("@")[0] if isinstance(value, User) else None)
def test_profiles_grant_what_they_say(profiles_applied, user, verb, resource, namespace, allowed):
    _, auth = profiles_applied
    assert auth.allowed(user, verb, resource, namespace) is allowed


def test_the_controllers_may_run_jobs_in_every_profile(profiles_applied):
    _, auth = profiles_applied
    jobs = Resource("batch", "jobs")
    assert auth.allowed(RUNNER, "create", jobs, "team-a") and auth.allowed(RUNNER, "create", jobs, "team-b")
    assert not auth.allowed(RUNNER, "create", jobs, "default")
    assert not auth.allowed(RUNNER, "create", PIPELINE_RUNS, "team-a")   # it runs Jobs, it is no user


def test_no_profiles_render_nothing(chart_suite):
    objects = chart_suite.objects(Render("mlplatform"))
    assert not [obj for obj in objects if obj["kind"] == "Namespace" or "mlplatform.io/profile" in obj["metadata"].get("labels", {})]
