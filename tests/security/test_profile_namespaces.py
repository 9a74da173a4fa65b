"""Multi-user mode with the Kubernetes runner: a trial's Job is created in its experiment's namespace and
runs as the runner ServiceAccount that values.profiles made there (`<release>-<namespace>-runner`), never in
the service's own namespace. The real tuning service against the test API server, which runs the Jobs."""

from __future__ import annotations

import os
import subprocess
import time

from kubernetes import client

from mlplatform.runners.kubernetes import profile_service_account
from tests.security.multiuser import call, kubernetes_mode, running
from tests.security.test_tuning_auth import API, experiment
from tests.support.chart_fixtures import RENDER_CASES
from tests.support.service_process import MLP

PROFILES = next(case for case in RENDER_CASES if case.id == "mlplatform/default")   # ci: team-a and team-b
SERVICE_NAMESPACE = "mlplatform"
ENV = {"MLP_RELEASE_NAME": "mlp", "POD_NAMESPACE": SERVICE_NAMESPACE}


def trial_jobs(server, namespace: str) -> dict[str, dict]:
    return {job["metadata"]["name"]: job for job in server.objects("batch/v1", "Job", namespace)}


def test_trials_run_in_their_namespace_as_its_profile_runner(cluster, tmp_path):
    server = cluster.server
    server.run_jobs = True
    seen, elsewhere = {}, {}
    with running(kubernetes_mode("tuning", tmp_path / "service", cluster.kubeconfig, "--runner", "kubernetes",
                                 env=ENV)) as service:
        assert call(service, "POST", API, "alice-token", json=experiment("in-team-a", "team-a")).status_code == 201
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            seen.update(trial_jobs(server, "team-a"))
            elsewhere.update(trial_jobs(server, SERVICE_NAMESPACE))
            status = call(service, "GET", f"{API}/in-team-a", "alice-token").json()["status"]
            if status.get("completionTime"):
                break
            time.sleep(0.05)
        assert status.get("trialsSucceeded") == 1, status                 # its metrics came from its pod's log
    assert seen and not elsewhere, (seen, elsewhere)
    for job in seen.values():
        pod = job["spec"]["template"]["spec"]
        assert job["metadata"]["namespace"] == "team-a"
        assert pod["serviceAccountName"] == "mlp-team-a-runner"
    assert not client.BatchV1Api(cluster.api_client()).list_namespaced_job("team-a").items   # deleted when done


def test_the_runner_account_is_the_one_the_profiles_make(chart_suite):
    """The umbrella chart (release mlp) makes the ServiceAccount the runner names, and lets the tuning service
    run Jobs in each profile's namespace."""
    objects = chart_suite.objects(PROFILES.render)
    accounts = {(obj["metadata"]["namespace"], obj["metadata"]["name"]) for obj in objects
                if obj["kind"] == "ServiceAccount" and obj["metadata"]["name"].endswith("-runner")}
    assert accounts == {(namespace, profile_service_account("mlp", namespace)) for namespace in ("team-a", "team-b")}
    for namespace in ("team-a", "team-b"):
        binding = next(obj for obj in objects if obj["kind"] == "RoleBinding" and obj["metadata"]["name"] ==
                       f"mlp-{namespace}-jobs")
        assert {"kind": "ServiceAccount", "name": "mlp-tuning-service", "namespace": "mlplatform"} in binding["subjects"]
        role = next(obj for obj in objects if obj["kind"] == "Role" and obj["metadata"]["name"] == f"mlp-{namespace}-jobs")
        assert {"apiGroups": ["batch"], "resources": ["jobs"], "verbs": ["get", "list", "watch", "create", "delete"]} \
            in role["rules"]
    deployment = next(obj for obj in objects if obj["kind"] == "Deployment"
                      and obj["metadata"]["name"] == "mlp-tuning-service")
    env = deployment["spec"]["template"]["spec"]["containers"][0]["env"]
    assert {"name": "MLP_RELEASE_NAME", "value": "mlp"} in env


def test_the_release_name_is_required(cluster, tmp_path):
    result = subprocess.run([str(MLP), "serve", "tuning", "--auth-mode", "kubernetes", "--runner", "kubernetes",
                             "--db", f"sqlite:///{tmp_path / 'db.sqlite'}", "--state-dir", str(tmp_path / "state")],
                            capture_output=True, text=True, check=False, timeout=60,
                            env={**os.environ, "KUBECONFIG": str(cluster.kubeconfig)})
    assert result.returncode == 2 and "set MLP_RELEASE_NAME" in result.stderr, result.stderr[-2000:]
