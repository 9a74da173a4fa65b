"""Metrics collectors on live experiments: StdOut with a custom filter, File (TEXT and JSON), Push, and
trials that never report their objective (MetricsUnavailable, counted against maxFailedTrialCount)."""

from pathlib import Path

import pytest
import requests

from mlplatform.tuning.collectors import Collector, MetricLog, objective_value, observation
from mlplatform.tuning.spec import DEFAULT_METRICS_FILTER, MetricsCollector, Objective
from tests.tuning.helpers import assignments, condition, katib_yaml, metric, trial_state

EXPERIMENT = """
apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata:
  name: {{name}}
spec:
  objective:
    type: {{goal}}
    objectiveMetricName: {{metric}}
{{additional}}
{{collector}}
  algorithm:
    algorithmName: random
    algorithmSettings:
      - name: random_state
        value: "11"
  parallelTrialCount: 2
  maxTrialCount: {{trials}}
  maxFailedTrialCount: {{failures}}
  parameters:
    - name: lr
      parameterType: double
      feasibleSpace:
        min: "0.1"
        max: "0.5"
  trialTemplate:
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
                image: docker.io/kubeflowkatib/pytorch-mnist-cpu:v0.15.0
                command:
{{command}}
            restartPolicy: Never
"""


def experiment(
    name, command, *, metric="loss", goal="minimize", collector="", additional="", trials=3, failures=1
):
    return katib_yaml(
        EXPERIMENT,
        name=name,
        command=command,
        metric=metric,
        goal=goal,
        collector=collector,
        additional=additional,
        trials=trials,
        failures=failures,
    )


def lr(trial) -> float:
    return float(assignments(trial)["lr"])


def test_stdout_with_a_custom_metrics_format(tuning):
    """`loss: 0.12` is not Katib's default `name=value`; the experiment's filter reads it."""
    command = """                  - "{{python}}"
                  - "-c"
                  - "import sys; lr = float(sys.argv[1]); print('epoch 1 - loss: %f' % ((lr - 0.3) ** 2))"
                  - "${trialParameters.learningRate}"
"""
    collector = r"""  metricsCollectorSpec:
    collector:
      kind: StdOut
    source:
      filter:
        metricsFormat:
          - "([\\w|-]+)\\s*:\\s*((-?\\d+)(\\.\\d+)?)"
"""
    tuning.create(experiment("stdout-filter", katib_yaml(command), collector=collector))
    done = tuning.wait_finished("stdout-filter")
    assert done["status"]["trialsSucceeded"] == 3
    for trial in tuning.trials("stdout-filter"):
        assert float(metric(trial["status"]["observation"], "loss")) == pytest.approx(
            (lr(trial) - 0.3) ** 2, abs=1e-6
        )


@pytest.mark.parametrize("file_format", ["TEXT", "JSON"])
def test_file_collector_reads_the_file_not_stdout(tuning, file_format):
    name = f"file-{file_format.lower()}"
    command = """                  - "{{python}}"
                  - "{{objectives}}/to_file.py"
                  - "--lr=${trialParameters.learningRate}"
                  - "--path=train.log"
                  - "--format={{format}}"
"""
    collector = """  metricsCollectorSpec:
    source:
      fileSystemPath:
        path: "train.log"
        kind: File
        format: {{format}}
    collector:
      kind: File
"""
    command, collector = (
        katib_yaml(command, format=file_format.lower()),
        katib_yaml(collector, format=file_format),
    )
    tuning.create(experiment(name, command, collector=collector))
    done = tuning.wait_finished(name)
    assert done["status"]["trialsSucceeded"] == 3, done["status"]
    for trial in tuning.trials(name):
        observed = trial["status"]["observation"]
        first, last = (lr(trial) - 0.3) ** 2 + 1.0, (lr(trial) - 0.3) ** 2 + 1 / 3
        assert float(metric(observed, "loss", "max")) == pytest.approx(first)  # not stdout's loss=999
        assert float(metric(observed, "loss", "min")) == pytest.approx(last)
        assert float(metric(observed, "loss", "latest")) == pytest.approx(last)


def test_file_collector_gives_each_trial_its_own_copy_of_an_absolute_path(tuning):
    """Katib's examples write to one absolute path (/katib/mnist.json); Katib gives every trial pod an
    emptyDir there. Locally each trial's path moves under its own task directory, so parallel trials never
    read each other's values and nothing is written to the shared path."""
    shared = "/katib-mlp-shared-path"
    command = f"""                  - "{{{{python}}}}"
                  - "{{{{objectives}}}}/to_file.py"
                  - "--lr=${{trialParameters.learningRate}}"
                  - "--path={shared}/mnist.json"
                  - "--format=json"
"""
    collector = f"""  metricsCollectorSpec:
    source:
      fileSystemPath:
        path: "{shared}/mnist.json"
        kind: File
        format: JSON
    collector:
      kind: File
"""
    tuning.create(experiment("file-private", katib_yaml(command), collector=collector, trials=4))
    done = tuning.wait_finished("file-private")
    assert done["status"]["trialsSucceeded"] == 4, done["status"]
    for trial in tuning.trials("file-private"):
        expected = (lr(trial) - 0.3) ** 2 + 1 / 3
        assert float(metric(trial["status"]["observation"], "loss", "latest")) == pytest.approx(expected)
    assert not Path(shared).exists()
    check_trial_metrics(tuning, "file-private")


def check_trial_metrics(tuning, name: str) -> None:
    """The dashboard's one call: every trial's parameters and its whole loss history (3 epochs)."""
    response = requests.get(f"{tuning.url}/api/v1/experiments/{name}/trial-metrics", timeout=30)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["parameters"] == ["lr"] and len(body["trials"]) == 4
    for trial in body["trials"]:
        rate = float(trial["parameters"]["lr"])
        history = trial["metrics"]["loss"]
        assert [point["step"] for point in history] == [0, 1, 2]
        assert [point["value"] for point in history] == pytest.approx(
            [(rate - 0.3) ** 2 + 1.0 / epoch for epoch in (1, 2, 3)]
        )
        assert trial["objective"] == pytest.approx(history[-1]["value"])  # minimize: the lowest, the last
    missing = requests.get(f"{tuning.url}/api/v1/experiments/nope/trial-metrics", timeout=30)
    assert missing.status_code == 404


def test_pushed_metrics(tuning):
    """The trial calls mlplatform.tuning.report_metrics(); it prints nothing."""
    command = """                  - "{{python}}"
                  - "{{objectives}}/pushed.py"
                  - "--x=${trialParameters.learningRate}"
"""
    collector = """  metricsCollectorSpec:
    collector:
      kind: Push
"""
    additional = "    additionalMetricNames:\n      - epoch"
    tuning.create(
        experiment(
            "pushed",
            katib_yaml(command),
            metric="score",
            goal="maximize",
            collector=collector,
            additional=additional,
        )
    )
    done = tuning.wait_finished("pushed")
    assert done["status"]["trialsSucceeded"] == 3, done["status"]
    trials = tuning.trials("pushed")
    for trial in trials:
        observed = trial["status"]["observation"]
        final = 10 - (lr(trial) - 2) ** 2
        assert float(metric(observed, "score", "latest")) == pytest.approx(final)
        assert float(metric(observed, "score", "max")) == pytest.approx(final)
        assert float(metric(observed, "score", "min")) == pytest.approx(final / 3)
        assert float(metric(observed, "epoch", "latest")) == 3
    best = max(trials, key=lambda trial: float(metric(trial["status"]["observation"], "score")))
    assert done["status"]["currentOptimalTrial"]["bestTrialName"] == best["metadata"]["name"]


def test_trials_without_the_metric_are_metrics_unavailable_and_count_against_max_failed(tuning):
    command = """                  - "{{python}}"
                  - "{{objectives}}/silent.py"
                  - "--lr=${trialParameters.learningRate}"
"""
    tuning.create(
        experiment("no-metric", katib_yaml(command), metric="accuracy", goal="maximize", trials=6, failures=1)
    )
    done = tuning.wait_finished("no-metric")
    failed = condition(done, "Failed")
    assert failed["reason"] == "ExperimentFailed" and "max failed count" in failed["message"]
    status = done["status"]
    # Katib counts them once, as MetricsUnavailable (not failed), and against maxFailedTrialCount
    assert status["trialsFailed"] == 0 and status["failedTrialList"] == []
    assert status["trialMetricsUnavailable"] == len(status["metricsUnavailableTrialList"]) >= 2
    assert status["trialsSucceeded"] == 0
    for trial in tuning.trials("no-metric"):
        if trial_state(trial) == "MetricsUnavailable":
            last = trial["status"]["conditions"][-1]
            assert last["reason"] == "MetricsUnavailable" and "accuracy" in last["message"]
            assert metric(trial["status"]["observation"], "accuracy") == "unavailable"


def test_a_failing_command_fails_its_trial(tuning):
    command = """                  - "{{python}}"
                  - "-c"
                  - "import sys; print('loss=0.5'); sys.exit(3)"
                  - "${trialParameters.learningRate}"
"""
    tuning.create(experiment("exit-code", katib_yaml(command), trials=3, failures=0))
    done = tuning.wait_finished("exit-code")
    assert condition(done, "Failed")
    failed = [trial for trial in tuning.trials("exit-code") if trial_state(trial) == "Failed"]
    assert failed and all(
        "exited with code 3" in trial["status"]["conditions"][-1]["message"] for trial in failed
    )
    assert all(trial["status"]["conditions"][-1]["reason"] == "TrialFailed" for trial in failed)


# --- parsing, without a service -------------------------------------------------------------------


OBJECTIVE = Objective(
    type="minimize",
    metric="loss",
    additional_metrics=("accuracy",),
    goal=None,
    strategies={"loss": "min", "accuracy": "latest"},
)


def test_katib_default_filter_reads_exponents_signs_and_timestamps():
    output = """2024-05-01T10:00:00Z epoch 1: loss=3.0e-02 accuracy=.4
epoch 2: loss = -1.5E-3, accuracy=0.5
learning_rate=0.1 (not a metric of this experiment)
loss=abc
"""
    logs = Collector(MetricsCollector(kind="StdOut"), OBJECTIVE.metric_names).collect(output, [])
    stamp = "2024-05-01T10:00:00Z"
    assert logs == [
        MetricLog("loss", "3.0e-02", stamp),
        MetricLog("accuracy", ".4", stamp),
        MetricLog("loss", "-1.5E-3"),
        MetricLog("accuracy", "0.5"),
    ]
    assert objective_value(logs, OBJECTIVE) == -1.5e-3
    assert observation(logs, OBJECTIVE) == [
        {"name": "loss", "min": "-1.5E-3", "max": "3.0e-02", "latest": "-1.5E-3"},
        {"name": "accuracy", "min": ".4", "max": "0.5", "latest": "0.5"},
    ]


def test_file_collector_prefers_the_final_dump_over_live_lines():
    collector = Collector(
        MetricsCollector(kind="File", path="m.json", format="JSON", filters=(DEFAULT_METRICS_FILTER,)),
        OBJECTIVE.metric_names,
    )
    live = '{"loss": "0.9"}\n{"loss": 0.8, "accuracy": "0.1"}\n{"los'
    assert [log.value for log in collector.collect(live, [])] == ["0.9", "0.8", "0.1"]
    finished = (
        live + '\n@@mlp-metrics-file-begin@@\n{"loss": "0.9"}\n{"loss": 0.7}\n\n@@mlp-metrics-file-end@@\n'
    )
    assert [log.value for log in collector.collect(finished, [])] == ["0.9", "0.7"]
