"""A failed trial says why (exit code and the end of its output), and its output outlives its task:
`GET /api/v1/experiments/{name}/trials/{trial}/logs`, bounded by --trial-log-bytes and --trial-logs-kept."""

from __future__ import annotations

import sys

import requests

from tests.tuning.helpers import load, trial_state

FAILING = """
import sys
print("loading the data", flush=True)
print("ValueError: column 'amount' is missing", file=sys.stderr, flush=True)
sys.exit(3)
"""

LOUD = """
import sys
print("x" * 5000)
print(f"trial {sys.argv[1]} done")
print("loss=" + sys.argv[1])
"""


def experiment(name: str, script: str, *, trials: int, failures: int) -> dict:
    manifest = load(f"""
apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata:
  name: {name}
spec:
  objective: {{type: minimize, objectiveMetricName: loss}}
  algorithm: {{algorithmName: random}}
  parallelTrialCount: 1
  maxTrialCount: {trials}
  maxFailedTrialCount: {failures}
  parameters:
    - name: x
      parameterType: double
      feasibleSpace: {{min: "0", max: "1"}}
  trialTemplate:
    primaryContainerName: main
    trialParameters: [{{name: x, reference: x}}]
    trialSpec:
      apiVersion: batch/v1
      kind: Job
      spec:
        template:
          spec:
            containers:
              - name: main
                image: python:3.11-slim
            restartPolicy: Never
""")
    container = manifest["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]
    container["command"] = [sys.executable, "-c", script, "${trialParameters.x}"]
    return manifest


def logs(service, name: str, trial: str) -> requests.Response:
    return requests.get(f"{service.url}/api/v1/experiments/{name}/trials/{trial}/logs", timeout=30)


def test_a_failed_trial_names_its_exit_code_and_output_which_outlives_its_task(tuning):
    tuning.create(experiment("fails-loudly", FAILING, trials=1, failures=0))
    tuning.wait_finished("fails-loudly")
    [trial] = tuning.trials("fails-loudly")
    assert trial_state(trial) == "Failed"
    failed = next(item for item in trial["status"]["conditions"] if item["type"] == "Failed")
    assert "exited with code 3" in failed["message"], failed
    assert "ValueError: column 'amount' is missing" in failed["message"], failed
    assert "Lost" not in failed["message"]

    response = logs(tuning, "fails-loudly", trial["metadata"]["name"])   # the task itself is deleted by now
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    assert "loading the data" in response.text and "column 'amount' is missing" in response.text


def test_unknown_trials_have_no_logs(tuning):
    tuning.create(experiment("quiet-one", LOUD, trials=1, failures=0))
    assert logs(tuning, "quiet-one", "no-such-trial").status_code == 404
    assert logs(tuning, "no-such-experiment", "no-such-trial").status_code == 404


def test_kept_output_is_bounded_in_size_and_count(start_tuning):
    service = start_tuning(extra_args=["--trial-log-bytes", "1024", "--trial-logs-kept", "2"])
    service.create(experiment("loud", LOUD, trials=4, failures=0))
    assert service.wait_finished("loud")["status"]["trialsSucceeded"] == 4
    trials = service.trials("loud")   # in the order they ran (one at a time), so the first two were pushed out
    kept = [logs(service, "loud", trial["metadata"]["name"]).text for trial in trials]
    assert all("no output kept" in text for text in kept[:2]), kept[:2]
    for trial, text in zip(trials[2:], kept[2:]):
        value = next(item["value"] for item in trial["spec"]["parameterAssignments"])
        assert f"trial {value} done" in text and "earlier bytes not kept" in text
        assert len(text.encode()) < 1024 + 100
