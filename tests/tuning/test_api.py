"""The HTTP API around experiments: both input forms, list and get, live PATCH, DELETE, operations routes."""

import json
import time
from pathlib import Path

import requests
import yaml

from tests.tuning.helpers import assignments, condition, finished, katib_yaml, load, trial_state

SLEEPY = """
apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata:
  name: {{name}}
  labels:
    team: fraud
spec:
  objective:
    type: minimize
    objectiveMetricName: loss
  algorithm:
    algorithmName: random
  parallelTrialCount: {{parallel}}
  maxTrialCount: {{trials}}
  maxFailedTrialCount: 1
  parameters:
    - name: x
      parameterType: double
      feasibleSpace:
        min: "0"
        max: "2"
  trialTemplate:
    primaryContainerName: training-container
    trialParameters:
      - name: x
        reference: x
    trialSpec:
      apiVersion: batch/v1
      kind: Job
      spec:
        template:
          spec:
            containers:
              - name: training-container
                image: docker.io/library/python:3.11-slim
                command:
                  - "{{python}}"
                  - "{{objectives}}/sleepy.py"
                  - "--x=${trialParameters.x}"
                  - "--seconds={{seconds}}"
            restartPolicy: Never
"""


def processes_running(argument: str) -> list[int]:
    """Live processes whose command line holds `argument`."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if argument.encode() in cmdline.read_bytes().split(b"\0"):
                found.append(int(cmdline.parent.name))
        except OSError:
            pass
    return found


def sleepy(name: str, *, parallel: int = 1, trials: int = 2, seconds: float = 1.0) -> str:
    return katib_yaml(SLEEPY, name=name, parallel=parallel, trials=trials, seconds=seconds)


def test_json_experiment_and_plain_spec_are_accepted(tuning):
    manifest = load(sleepy("as-json", seconds=0))
    created = tuning.submit(json.dumps(manifest), content_type="application/json")
    assert created.status_code == 201, created.text
    plain = {"name": "as-plain-spec", **manifest["spec"]}
    created = tuning.submit(plain)
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["apiVersion"], body["kind"], body["metadata"]["name"]) == (
        "kubeflow.org/v1beta1",
        "Experiment",
        "as-plain-spec",
    )
    for name in ("as-json", "as-plain-spec"):
        assert tuning.wait_finished(name)["status"]["trialsSucceeded"] == 2


def test_get_list_and_trials_are_katib_shaped(tuning):
    tuning.create(sleepy("katib-shape", seconds=0))
    done = tuning.wait_finished("katib-shape")
    assert done["metadata"]["labels"] == {"team": "fraud"}
    assert (
        done["spec"]["parallelTrialCount"] == 1
        and done["spec"]["metricsCollectorSpec"]["collector"]["kind"] == "StdOut"
    )
    types = [(item["type"], item["status"]) for item in done["status"]["conditions"]]
    assert types == [("Created", "True"), ("Running", "False"), ("Succeeded", "True")]
    assert done["status"]["startTime"] and done["status"]["completionTime"]
    listed = requests.get(f"{tuning.url}/api/v1/experiments", timeout=10).json()
    assert listed["kind"] == "ExperimentList" and "katib-shape" in [
        item["metadata"]["name"] for item in listed["items"]
    ]
    trials = tuning.trials("katib-shape")
    assert sorted(trial["metadata"]["name"] for trial in trials) == sorted(
        done["status"]["succeededTrialList"]
    )
    trial = trials[0]
    assert trial["kind"] == "Trial" and trial["metadata"]["labels"] == {
        "katib.kubeflow.org/experiment": "katib-shape"
    }
    run_spec = trial["spec"]["runSpec"]
    assert run_spec["metadata"]["name"] == trial["metadata"]["name"]
    command = run_spec["spec"]["template"]["spec"]["containers"][0]["command"]
    assert command[2] == f"--x={assignments(trial)['x']}"  # ${trialParameters.x} substituted
    one = requests.get(
        f"{tuning.url}/api/v1/experiments/katib-shape/trials/{trial['metadata']['name']}", timeout=10
    )
    assert one.status_code == 200 and one.json()["status"] == trial["status"]


def test_unknown_names_and_taken_names(tuning):
    assert requests.get(f"{tuning.url}/api/v1/experiments/nope", timeout=10).status_code == 404
    assert requests.get(f"{tuning.url}/api/v1/experiments/nope/trials", timeout=10).status_code == 404
    assert tuning.delete("nope").status_code == 404
    tuning.create(sleepy("taken", seconds=0))
    again = tuning.submit(sleepy("taken", seconds=0))
    assert again.status_code == 409 and "already exists" in again.json()["error"]


def test_patch_changes_counts_of_a_running_experiment(tuning):
    tuning.create(sleepy("patched", parallel=1, trials=2, seconds=1.5))
    tuning.wait_until("patched", lambda e: e["status"]["trialsRunning"] == 1, what="a running trial")
    response = tuning.patch("patched", {"spec": {"parallelTrialCount": 3, "maxTrialCount": 6}})
    assert response.status_code == 200, response.text
    assert response.json()["spec"]["parallelTrialCount"] == 3
    busy = tuning.wait_until(
        "patched",
        lambda e: e["status"]["trialsRunning"] + e["status"]["trialsPending"] == 3,
        what="three trials at once",
    )
    assert busy["spec"]["maxTrialCount"] == 6
    done = tuning.wait_finished("patched")
    assert condition(done, "Succeeded")["reason"] == "ExperimentMaxTrialsReached"
    assert done["status"]["trialsSucceeded"] == 6


def test_raising_max_trials_resumes_a_finished_long_running_experiment(tuning):
    manifest = load(sleepy("resumed", trials=2, seconds=0))
    manifest["spec"]["resumePolicy"] = "LongRunning"
    tuning.create(manifest)
    tuning.wait_finished("resumed")
    response = tuning.patch("resumed", {"maxTrialCount": 4})  # the fields alone work too
    assert response.status_code == 200, response.text
    done = tuning.wait_until(
        "resumed", lambda e: finished(e) and e["status"]["trials"] == 4, what="two more trials"
    )
    assert done["status"]["trialsSucceeded"] == 4
    assert tuning.patch("resumed", {"maxTrialCount": 3}).status_code == 400  # not above status.trials


def test_resume_policy_never_keeps_a_finished_experiment_finished(tuning):
    tuning.create(sleepy("never-resumed", trials=2, seconds=0))
    done = tuning.wait_finished("never-resumed")
    assert done["spec"]["resumePolicy"] == "Never"  # Katib's default, shown
    response = tuning.patch("never-resumed", {"maxTrialCount": 4})
    assert response.status_code == 400 and "spec.resumePolicy" in response.text, response.text
    assert "LongRunning or FromVolume" in response.text
    assert tuning.experiment("never-resumed")["status"]["trials"] == 2


def test_patch_refuses_other_fields_and_inconsistent_counts(tuning):
    tuning.create(sleepy("patch-refused", trials=2, seconds=0))
    response = tuning.patch(
        "patch-refused", {"spec": {"algorithm": {"algorithmName": "tpe"}, "parameters": []}}
    )
    assert response.status_code == 400
    problems = response.json()["problems"]
    assert any("spec.algorithm" in problem for problem in problems)
    assert any("spec.parameters" in problem for problem in problems)
    response = tuning.patch("patch-refused", {"spec": {"parallelTrialCount": 5}})
    assert response.status_code == 400 and "greater than maxTrialCount" in response.text
    assert tuning.patch("nope", {"maxTrialCount": 3}).status_code == 404


def test_delete_kills_running_trials(tuning, tmp_path):
    tuning.create(sleepy("deleted", parallel=2, trials=4, seconds=30))
    running = tuning.wait_until(
        "deleted", lambda e: e["status"]["trialsRunning"] == 2, what="two running trials"
    )
    started = time.monotonic()
    assert tuning.delete("deleted").status_code == 200
    assert time.monotonic() - started < 20  # the 30 s trials were killed, not waited for
    assert requests.get(f"{tuning.url}/api/v1/experiments/deleted", timeout=10).status_code == 404
    for name in running["status"]["runningTrialList"]:
        assert not (tuning.workdir / "state" / name).exists()  # the runner's task is gone with it
    assert not processes_running("--seconds=30")
    tuning.create(sleepy("deleted", trials=1, seconds=0))  # the name is free again
    assert tuning.wait_finished("deleted")["status"]["trialsSucceeded"] == 1


def test_operations_routes(tuning):
    assert requests.get(f"{tuning.url}/healthz", timeout=10).json() == {"status": "ok"}
    assert requests.get(f"{tuning.url}/readyz", timeout=10).json() == {"status": "ready"}
    tuning.create(sleepy("observed", trials=1, seconds=0))
    tuning.wait_finished("observed")
    text = requests.get(f"{tuning.url}/metrics", timeout=10).text
    samples = {
        line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line and not line.startswith("#")
    }
    assert samples['mlp_tuning_experiments{state="Succeeded"}'] >= 1
    assert samples['mlp_tuning_trials{state="Succeeded"}'] >= 1
    assert samples['mlp_tuning_trial_duration_seconds_count{state="Succeeded"}'] >= 1
    assert 'mlp_tuning_trials{state="EarlyStopped"}' in samples


def test_push_endpoint_checks_what_it_gets(tuning):
    assert (
        requests.post(
            f"{tuning.url}/api/v1/trials/nope/metrics", json={"metrics": {"a": 1}}, timeout=10
        ).status_code
        == 404
    )
    tuning.create(sleepy("push-to-stdout", trials=1, seconds=0))
    done = tuning.wait_finished("push-to-stdout")
    trial = done["status"]["succeededTrialList"][0]
    bad = requests.post(
        f"{tuning.url}/api/v1/trials/{trial}/metrics",
        json={"metrics": {"loss": "low", "x": True}},
        timeout=10,
    )
    assert bad.status_code == 400 and len(bad.json()["problems"]) == 2
    refused = requests.post(
        f"{tuning.url}/api/v1/trials/{trial}/metrics", json={"metrics": {"loss": 1.0}}, timeout=10
    )
    assert refused.status_code == 409 and "Push" in refused.json()["error"]
    assert trial_state(tuning.trials("push-to-stdout")[0]) == "Succeeded"


def test_yaml_round_trip_of_the_returned_experiment(tuning):
    """What GET returns can be saved and submitted again under another name (status is ignored)."""
    tuning.create(sleepy("original", trials=1, seconds=0))
    returned = tuning.wait_finished("original")
    returned["metadata"] = {"name": "copy"}
    assert tuning.submit(yaml.safe_dump(returned)).status_code == 201
    assert tuning.wait_finished("copy")["status"]["trialsSucceeded"] == 1


def test_get_shows_katibs_defaults(tuning):
    tuning.create(sleepy("defaults-shown", trials=1, seconds=0))
    spec = tuning.experiment("defaults-shown")["spec"]
    assert spec["resumePolicy"] == "Never"
    assert spec["parameters"][0]["feasibleSpace"]["distribution"] == "uniform"
    assert spec["trialTemplate"]["successCondition"] == 'status.conditions.#(type=="Complete")#|#(status=="True")#'
    assert spec["trialTemplate"]["failureCondition"] == 'status.conditions.#(type=="Failed")#|#(status=="True")#'


def test_the_optimal_trial_may_be_an_early_stopped_one():
    """Katib picks currentOptimalTrial from every trial with an objective value, early-stopped ones too."""
    from mlplatform.tuning.spec import Objective
    from mlplatform.tuning.status import best_trial
    from mlplatform.tuning.store import TrialRecord, TrialState

    objective = Objective("maximize", "accuracy", (), None, {"accuracy": "max"})
    done = TrialRecord("a", "e", 0, [], state=TrialState.SUCCEEDED, objective=0.5)
    stopped = TrialRecord("b", "e", 1, [], state=TrialState.EARLY_STOPPED, objective=0.7)
    assert best_trial([done, stopped], objective) is stopped
