"""Median stopping: trials whose accuracy curve falls below the median of earlier trials are killed."""

from tests.tuning.helpers import assignments, condition, katib_yaml, metric, trial_state

# Katib's median-stop example: "bad feasible space for learning rate to show more early stopped Trials".
MEDIAN_STOP = """
apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata:
  namespace: kubeflow
  name: median-stop
spec:
  objective:
    type: maximize
    goal: 0.99
    objectiveMetricName: Validation-accuracy
  algorithm:
    algorithmName: random
    algorithmSettings:
      - name: random_state
        value: "5"
  earlyStopping:
    algorithmName: medianstop
    algorithmSettings:
      - name: min_trials_required
        value: "2"
      - name: start_step
        value: "2"
  parallelTrialCount: 2
  maxTrialCount: 8
  maxFailedTrialCount: 3
  parameters:
    - name: lr
      parameterType: double
      feasibleSpace:
        min: "0.01"
        max: "0.5"
  trialTemplate:
    retain: true
    primaryContainerName: training-container
    trialParameters:
      - name: learningRate
        description: Learning rate for the training model
        reference: lr
    trialSpec:
      apiVersion: batch/v1
      kind: Job
      spec:
        template:
          spec:
            containers:
              - name: training-container
                image: docker.io/kubeflowkatib/mxnet-mnist:v0.15.0
                command:
                  - "{{python}}"
                  - "{{objectives}}/curve.py"
                  - "--lr=${trialParameters.learningRate}"
                  - "--epochs=10"
                  - "--seconds-per-epoch=0.3"
            restartPolicy: Never
"""


def ceiling(trial: dict) -> float:
    """The accuracy curve.py reaches after all its epochs for this trial's learning rate."""
    return max(0.05, 0.95 - 4 * abs(float(assignments(trial)["lr"]) - 0.05))


def test_median_stopping_kills_bad_trials(tuning):
    tuning.create(katib_yaml(MEDIAN_STOP))
    done = tuning.wait_finished("median-stop", timeout=120)
    assert condition(done, "Succeeded")["reason"] == "ExperimentMaxTrialsReached"
    trials = tuning.trials("median-stop")
    stopped = [trial for trial in trials if trial_state(trial) == "EarlyStopped"]
    assert stopped, "no trial was stopped early"
    assert done["status"]["trialsEarlyStopped"] == len(stopped)
    for trial in stopped:
        assert trial["status"]["conditions"][-1]["reason"] == "TrialEarlyStopped"
        reached = float(metric(trial["status"]["observation"], "Validation-accuracy"))
        assert reached < ceiling(trial) - 1e-3, "an early-stopped trial ran all its epochs"
    for trial in trials:
        if trial_state(trial) == "Succeeded":  # ran to the end
            assert float(metric(trial["status"]["observation"], "Validation-accuracy")) == round(
                ceiling(trial), 4
            )
    # the pruner stops the worse trials, never the best one
    best = done["status"]["currentOptimalTrial"]
    assert best["bestTrialName"] not in {trial["metadata"]["name"] for trial in stopped}
    assert max(ceiling(trial) for trial in stopped) <= float(
        metric(best["observation"], "Validation-accuracy")
    )


def hyperband_experiment() -> str:
    """The median-stop experiment with Katib's hyperband instead: `epochs` is the resource parameter."""
    text = katib_yaml(MEDIAN_STOP).replace("name: median-stop", "name: hyperband")
    text = text.replace(
        """  algorithm:
    algorithmName: random
    algorithmSettings:
      - name: random_state
        value: "5"
  earlyStopping:
    algorithmName: medianstop
    algorithmSettings:
      - name: min_trials_required
        value: "2"
      - name: start_step
        value: "2"
""",
        """  algorithm:
    algorithmName: hyperband
    algorithmSettings:
      - name: random_state
        value: "5"
      - name: resource_name
        value: epochs
      - name: eta
        value: "3"
      - name: r_l
        value: "9"
""",
    )
    text = text.replace("maxTrialCount: 8", "maxTrialCount: 10")
    text = text.replace(
        """        max: "0.5"
""",
        """        max: "0.5"
    - name: epochs
      parameterType: int
      feasibleSpace:
        min: "1"
        max: "1"
""",
    )
    text = text.replace(
        """        reference: lr
""",
        """        reference: lr
      - name: epochs
        reference: epochs
""",
    )
    return text.replace('"--epochs=10"', '"--epochs=${trialParameters.epochs}"').replace(
        '"--seconds-per-epoch=0.3"', '"--seconds-per-epoch=0.15"'
    )


def test_hyperband_gives_every_trial_the_full_resource_and_stops_the_laggards(tuning):
    tuning.create(hyperband_experiment())
    done = tuning.wait_finished("hyperband", timeout=120)
    assert condition(done, "Succeeded")["reason"] == "ExperimentMaxTrialsReached"
    trials = tuning.trials("hyperband")
    assert {assignments(trial)["epochs"] for trial in trials} == {"9"}  # r_l: the most a trial gets
    stopped = [trial for trial in trials if trial_state(trial) == "EarlyStopped"]
    assert stopped, "hyperband stopped no trial"
    for trial in stopped:
        assert "hyperband" in trial["status"]["conditions"][-1]["message"]
        reached = float(metric(trial["status"]["observation"], "Validation-accuracy"))
        assert reached < ceiling(trial) - 1e-3, "an early-stopped trial ran all its epochs"
