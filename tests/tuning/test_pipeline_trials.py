"""Pipeline trials: each trial is a run on a live pipeline controller (`mlp serve pipelines`), and the
objective comes from the run's Metrics artifact."""

import kfp
import pytest
import yaml
from kfp import compiler, dsl

from tests.pipelines.controller import Controller
from tests.tuning.helpers import assignments, condition, metric, trial_state


@dsl.component(base_image="python:3.11")
def train(learning_rate: float, layers: int, metrics: dsl.Output[dsl.Metrics]):
    accuracy = 1.0 - (learning_rate - 0.1) ** 2 - 0.01 * abs(layers - 3)
    metrics.log_metric("accuracy", accuracy)
    metrics.log_metric("loss", 1.0 - accuracy)


@dsl.pipeline(name="tuned-training")
def training(learning_rate: float = 0.05, layers: int = 2):
    train(learning_rate=learning_rate, layers=layers)


def expected_accuracy(trial: dict) -> float:
    values = assignments(trial)
    return 1.0 - (float(values["lr"]) - 0.1) ** 2 - 0.01 * abs(int(values["layers"]) - 3)


def experiment(name: str, pipeline: dict) -> dict:
    """A Katib Experiment whose trialSpec is a PipelineRun (docs/tuning.md)."""
    return {
        "apiVersion": "kubeflow.org/v1beta1",
        "kind": "Experiment",
        "metadata": {"name": name},
        "spec": {
            "objective": {
                "type": "maximize",
                "objectiveMetricName": "accuracy",
                "additionalMetricNames": ["loss"],
            },
            "algorithm": {
                "algorithmName": "tpe",
                "algorithmSettings": [{"name": "random_state", "value": "2"}],
            },
            "parallelTrialCount": 2,
            "maxTrialCount": 4,
            "maxFailedTrialCount": 0,
            "parameters": [
                {"name": "lr", "parameterType": "double", "feasibleSpace": {"min": "0.01", "max": "0.3"}},
                {"name": "layers", "parameterType": "int", "feasibleSpace": {"min": "1", "max": "5"}},
            ],
            "trialTemplate": {
                "trialParameters": [
                    {"name": "learningRate", "reference": "lr"},
                    {"name": "numberLayers", "reference": "layers"},
                ],
                "trialSpec": {
                    "apiVersion": "pipelines.mlplatform.io/v1alpha1",
                    "kind": "PipelineRun",
                    "spec": {
                        **pipeline,
                        "metricsTaskName": "train",
                        "parameters": {
                            "learning_rate": "${trialParameters.learningRate}",
                            "layers": "${trialParameters.numberLayers}",
                        },
                    },
                },
            },
        },
    }


@pytest.fixture
def pipeline_controller(tmp_path):
    controller = Controller(tmp_path / "pipelines", artifact_root=str(tmp_path / "artifacts")).start()
    try:
        yield controller.url
    finally:
        controller.stop()


@pytest.mark.slow
def test_pipeline_runs_as_trials(pipeline_controller, start_tuning, tmp_path):
    package = tmp_path / "training.yaml"
    compiler.Compiler().compile(training, str(package))
    kfp.Client(host=pipeline_controller).upload_pipeline(str(package), pipeline_name="tuned-training")
    tuning = start_tuning(extra_args=["--pipelines-url", pipeline_controller])

    tuning.create(experiment("pipeline-inline", {"pipelineSpec": yaml.safe_load(package.read_text())}))
    tuning.create(experiment("pipeline-uploaded", {"pipelineName": "tuned-training"}))
    for name in ("pipeline-inline", "pipeline-uploaded"):
        done = tuning.wait_finished(name, timeout=240)
        assert condition(done, "Succeeded")["reason"] == "ExperimentMaxTrialsReached", done["status"]
        trials = tuning.trials(name)
        assert len(trials) == 4 and all(trial_state(trial) == "Succeeded" for trial in trials)
        client = kfp.Client(host=pipeline_controller)
        for trial in trials:
            observed = trial["status"]["observation"]
            assert float(metric(observed, "accuracy")) == pytest.approx(expected_accuracy(trial))
            assert float(metric(observed, "loss")) == pytest.approx(1 - expected_accuracy(trial))
            run = client.get_run(trial["status"]["runId"])
            assert run.display_name == trial["metadata"]["name"]
            parameters = run.runtime_config.parameters  # typed as the search parameters, not text
            assert parameters["learning_rate"] == float(assignments(trial)["lr"])
            assert parameters["layers"] == int(assignments(trial)["layers"]) and not isinstance(
                parameters["layers"], str
            )
        best = max(trials, key=expected_accuracy)
        assert done["status"]["currentOptimalTrial"]["bestTrialName"] == best["metadata"]["name"]
