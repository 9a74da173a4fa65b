"""Every algorithm runs real experiments through the HTTP API: trials are subprocesses printing metrics."""

import itertools
import math

import optuna
import pytest
from optuna.distributions import FloatDistribution

from tests.tuning.helpers import BRANIN, assignments, condition, katib_yaml, metric, trial_state
from tests.tuning.objectives.branin import branin
from tests.tuning.objectives.mixed import OPTIMIZERS

MIXED = """
apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata:
  name: {{name}}
spec:
  objective:
    type: maximize
    goal: 0.99
    objectiveMetricName: Validation-accuracy
    additionalMetricNames:
      - Train-accuracy
  algorithm:
    algorithmName: {{algorithm}}
    algorithmSettings:
      - name: random_state
        value: "3"
  parallelTrialCount: 3
  maxTrialCount: {{trials}}
  maxFailedTrialCount: 3
  parameters:
    - name: lr
      parameterType: double
      feasibleSpace:
        min: "0.01"
        max: "0.03"
{{lr_step}}
    - name: num-layers
      parameterType: {{layers_type}}
      feasibleSpace:
{{layers_space}}
    - name: optimizer
      parameterType: categorical
      feasibleSpace:
        list:
          - sgd
          - adam
          - ftrl
  trialTemplate:
    primaryContainerName: training-container
    trialParameters:
      - name: learningRate
        description: Learning rate for the training model
        reference: lr
      - name: numberLayers
        description: Number of training model layers
        reference: num-layers
      - name: optimizer
        description: Training model optimizer (sdg, adam or ftrl)
        reference: optimizer
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
                  - "{{objectives}}/mixed.py"
                  - "--lr=${trialParameters.learningRate}"
                  - "--num-layers=${trialParameters.numberLayers}"
                  - "--optimizer=${trialParameters.optimizer}"
            restartPolicy: Never
"""

INT_LAYERS = '        min: "1"\n        max: "5"'


def run_branin(tuning, algorithm: str, trials: int, settings: str = "") -> tuple[dict, list[dict]]:
    name = f"branin-{algorithm}-{trials}"
    tuning.create(katib_yaml(BRANIN, name=name, algorithm=algorithm, trials=trials, settings=settings))
    experiment = tuning.wait_finished(name, timeout=180)
    return experiment, tuning.trials(name)


def check_branin(experiment: dict, trials: list[dict], count: int) -> float:
    """Every trial ran the substituted command and its printed loss was read; the best is the minimum."""
    status = experiment["status"]
    assert condition(experiment, "Succeeded")["reason"] == "ExperimentMaxTrialsReached"
    assert status["trials"] == status["trialsSucceeded"] == len(trials) == count
    losses = {}
    for trial in trials:
        assert trial_state(trial) == "Succeeded"
        x1, x2 = (float(assignments(trial)[key]) for key in ("x1", "x2"))
        assert -5 <= x1 <= 10 and 0 <= x2 <= 15
        loss = float(metric(trial["status"]["observation"], "loss"))
        assert math.isclose(loss, branin(x1, x2), rel_tol=1e-9)
        losses[trial["metadata"]["name"]] = loss
    best_name = min(losses, key=losses.get)
    optimal = status["currentOptimalTrial"]
    assert optimal["bestTrialName"] == best_name
    assert float(metric(optimal["observation"], "loss", "min")) == losses[best_name]
    return losses[best_name]


def replay(sampler, trials: list[dict]) -> list[tuple[float, float]]:
    """The points a plain Optuna ask-and-tell loop suggests when told the same Branin values."""
    study = optuna.create_study(sampler=sampler)
    space = {"x1": FloatDistribution(-5, 10), "x2": FloatDistribution(0, 15)}
    points = []
    for _ in trials:
        suggestion = study.ask(space)
        points.append((suggestion.params["x1"], suggestion.params["x2"]))
        study.tell(suggestion, branin(*points[-1]))
    return points


@pytest.mark.parametrize(
    "algorithm, settings, trials, sampler",
    [
        ("random", "", 10, lambda: optuna.samplers.RandomSampler(seed=7)),
        (
            "tpe",
            '      - name: n_startup_trials\n        value: "6"',
            16,
            lambda: optuna.samplers.TPESampler(seed=7, n_startup_trials=6),
        ),
        (
            "multivariate-tpe",
            '      - name: n_startup_trials\n        value: "6"',
            16,
            lambda: optuna.samplers.TPESampler(seed=7, n_startup_trials=6, multivariate=True),
        ),
        ("cmaes", "", 16, lambda: optuna.samplers.CmaEsSampler(seed=7)),
        ("sobol", "", 8, lambda: optuna.samplers.QMCSampler(qmc_type="sobol", scramble=True, seed=7)),
        (
            "bayesianoptimization",
            '      - name: n_initial_points\n        value: "4"',
            8,
            lambda: optuna.samplers.GPSampler(seed=7, n_startup_trials=4),
        ),
    ],
)
def test_each_algorithm_is_its_optuna_sampler(tuning, algorithm, settings, trials, sampler):
    """One trial at a time with a fixed random_state, the service suggests exactly what the Optuna
    sampler named by the algorithm and its settings suggests in a plain ask-and-tell loop."""
    experiment, trial_list = run_branin(tuning, algorithm, trials, settings)
    check_branin(experiment, trial_list, trials)
    suggested = [(float(assignments(t)["x1"]), float(assignments(t)["x2"])) for t in trial_list]
    assert suggested == replay(sampler(), trial_list)


def test_tpe_gets_near_the_branin_optimum(tuning):
    experiment, trials = run_branin(tuning, "tpe", 30, "")
    best = check_branin(experiment, trials, 30)
    assert best < 2.0, f"TPE's best Branin value after 30 trials is {best} (optimum 0.397887)"


@pytest.mark.parametrize("algorithm", ["random", "tpe", "multivariate-tpe"])
def test_categorical_and_int_parameters(tuning, algorithm):
    name = f"mixed-{algorithm}"
    tuning.create(
        katib_yaml(
            MIXED,
            name=name,
            algorithm=algorithm,
            trials=9,
            lr_step="",
            layers_type="int",
            layers_space=INT_LAYERS,
        )
    )
    experiment = tuning.wait_finished(name)
    trials = tuning.trials(name)
    assert experiment["status"]["trialsSucceeded"] == 9
    accuracies = {}
    for trial in trials:
        values = assignments(trial)
        assert values["optimizer"] in OPTIMIZERS
        assert values["num-layers"] in {"1", "2", "3", "4", "5"}  # integers, written as integers
        expected = (
            OPTIMIZERS[values["optimizer"]]
            - 0.05 * abs(int(values["num-layers"]) - 3)
            - abs(float(values["lr"]) - 0.01)
        )
        observed = trial["status"]["observation"]
        assert float(metric(observed, "Validation-accuracy")) == pytest.approx(expected, abs=1e-6)
        assert float(metric(observed, "Train-accuracy")) == pytest.approx(expected + 0.02, abs=1e-6)
        accuracies[trial["metadata"]["name"]] = expected
    assert experiment["status"]["currentOptimalTrial"]["bestTrialName"] == max(accuracies, key=accuracies.get)


def test_grid_ends_when_every_point_ran_once(tuning):
    """3 learning rates x 2 layer counts x 3 optimizers: 18 points, then ExperimentSuggestionEndReached."""
    name = "grid-exhaustion"
    tuning.create(
        katib_yaml(
            MIXED,
            name=name,
            algorithm="grid",
            trials=30,
            lr_step='        step: "0.01"',
            layers_type="discrete",
            layers_space='        list: ["2", "4"]',
        )
    )
    experiment = tuning.wait_finished(name)
    assert condition(experiment, "Succeeded")["reason"] == "ExperimentSuggestionEndReached"
    trials = tuning.trials(name)
    points = sorted(
        (round(float(assignments(t)["lr"]), 6), assignments(t)["num-layers"], assignments(t)["optimizer"])
        for t in trials
    )
    expected = sorted(itertools.product([0.01, 0.02, 0.03], ["2", "4"], ["adam", "ftrl", "sgd"]))
    assert points == expected
    assert experiment["status"]["trialsSucceeded"] == 18


def test_reaching_the_goal_ends_the_experiment(tuning):
    """Maximising with goal 0.84: the first trial at or above it ends the experiment, long before max."""
    name = "goal-reached"
    manifest = katib_yaml(MIXED, name=name, algorithm="random", trials=40, lr_step="", layers_type="int",
                          layers_space=INT_LAYERS)
    tuning.create(manifest.replace("goal: 0.99", "goal: 0.84").replace("parallelTrialCount: 3",
                                                                       "parallelTrialCount: 1"))
    experiment = tuning.wait_finished(name)
    assert condition(experiment, "Succeeded")["reason"] == "ExperimentGoalReached"
    trials = tuning.trials(name)
    accuracies = [float(metric(trial["status"]["observation"], "Validation-accuracy")) for trial in trials]
    assert len(trials) < 40
    assert accuracies[-1] >= 0.84 and all(value < 0.84 for value in accuracies[:-1])
    assert experiment["status"]["currentOptimalTrial"]["bestTrialName"] == trials[-1]["metadata"]["name"]
