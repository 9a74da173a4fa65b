"""A tuning service killed mid-experiment resumes it: trials in flight are re-attached or re-run, finished
trials are neither lost nor counted twice (in the API and in Optuna's study)."""

import time

import optuna
import pytest

from tests.tuning.helpers import TuningService, condition, katib_yaml, metric

RESTARTED = """
apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata:
  name: restarted
spec:
  objective:
    type: minimize
    objectiveMetricName: loss
  algorithm:
    algorithmName: tpe
    algorithmSettings:
      - name: random_state
        value: "1"
  parallelTrialCount: 2
  maxTrialCount: 5
  maxFailedTrialCount: 0
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
                  - "--seconds=2"
                  - "--runs-file={{runs}}"
            restartPolicy: Never
"""


@pytest.mark.slow
def test_a_killed_service_resumes_its_experiment(tmp_path):
    runs = tmp_path / "runs.log"
    # One runner slot for two parallel trials: at the kill one trial runs and one waits in the runner's queue.
    first = TuningService(tmp_path / "service", max_parallel=1).start()
    try:
        first.create(katib_yaml(RESTARTED, runs=runs))
        before = first.wait_until(
            "restarted",
            lambda e: (
                e["status"]["trialsSucceeded"] >= 1
                and e["status"]["trialsRunning"] == 1
                and e["status"]["trialsPending"] == 1
            ),
            what="one trial done, one running, one queued",
        )
        done_before = {
            trial["metadata"]["name"]: trial
            for trial in first.trials("restarted")
            if trial["metadata"]["name"] in before["status"]["succeededTrialList"]
        }
        in_flight = before["status"]["runningTrialList"] + before["status"]["pendingTrialList"]
    finally:
        first.kill()
    time.sleep(2.5)  # the running trial finishes while no service watches it

    second = TuningService(tmp_path / "service", max_parallel=2)
    second.port = first.port
    second.start()
    try:
        done = second.wait_finished("restarted")
        trials = {trial["metadata"]["name"]: trial for trial in second.trials("restarted")}
    finally:
        second.stop()

    assert "Traceback" not in second.logs(), second.logs()
    assert condition(done, "Succeeded")["reason"] == "ExperimentMaxTrialsReached"
    assert done["status"]["trials"] == done["status"]["trialsSucceeded"] == 5
    for name, trial in done_before.items():  # finished before the kill: kept as they were
        assert trials[name]["status"] == trial["status"]
    assert set(in_flight) <= set(trials)  # in flight at the kill: finished under their own names
    run_counts = {name: runs.read_text().split().count(name) for name in trials}
    assert all(count == 1 for count in run_counts.values()), (
        run_counts
    )  # re-attached or run once, never twice

    study = optuna.load_study(study_name=optuna.get_all_study_names(first.db)[0], storage=first.db)
    complete = study.get_trials(states=(optuna.trial.TrialState.COMPLETE,))
    assert len(complete) == 5
    told = sorted(trial.value for trial in complete)
    assert told == sorted(float(metric(trial["status"]["observation"], "loss")) for trial in trials.values())
