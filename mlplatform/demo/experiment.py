"""The Katib Experiment that tunes the fraud trainer, exactly as a Katib user would write it."""

from __future__ import annotations

import sys

from mlplatform.demo.pipeline import PLATFORM_IMAGE


def fraud_tuning_experiment(data_path: str, *, name: str = "fraud-tuning", trials: int = 8, parallel: int = 2,
                            python: str = sys.executable) -> dict:
    """A kubeflow.org/v1beta1 Experiment: TPE over the trainer's hyperparameters, maximising ROC AUC."""
    return {
        "apiVersion": "kubeflow.org/v1beta1",
        "kind": "Experiment",
        "metadata": {"name": name},
        "spec": {
            "objective": {
                "type": "maximize",
                "goal": 0.99,
                "objectiveMetricName": "auc",
                "additionalMetricNames": ["pr_auc", "recall"],
            },
            "algorithm": {"algorithmName": "tpe", "algorithmSettings": [{"name": "random_state", "value": "7"}]},
            "parallelTrialCount": parallel,
            "maxTrialCount": trials,
            "maxFailedTrialCount": 2,
            "parameters": [
                {"name": "lr", "parameterType": "double", "feasibleSpace": {"min": "0.02", "max": "0.3"}},
                {"name": "depth", "parameterType": "int", "feasibleSpace": {"min": "2", "max": "8"}},
                {"name": "iterations", "parameterType": "discrete",
                 "feasibleSpace": {"list": ["50", "100", "200"]}},
            ],
            "metricsCollectorSpec": {"collector": {"kind": "StdOut"}},
            "trialTemplate": {
                "primaryContainerName": "training-container",
                "trialParameters": [
                    {"name": "learningRate", "reference": "lr", "description": "learning rate"},
                    {"name": "maxDepth", "reference": "depth"},
                    {"name": "maxIter", "reference": "iterations"},
                ],
                "trialSpec": {
                    "apiVersion": "batch/v1",
                    "kind": "Job",
                    "spec": {"template": {"spec": {
                        "restartPolicy": "Never",
                        "containers": [{
                            "name": "training-container",
                            "image": PLATFORM_IMAGE,
                            # Trials share the machine: one OpenMP thread each keeps parallel trials from
                            # oversubscribing the CPU (as a CPU request of 1 would size them in a cluster).
                            "env": [{"name": "OMP_NUM_THREADS", "value": "1"}],
                            "command": [
                                python, "-m", "mlplatform.demo.trainer", "--data", data_path,
                                "--learning-rate=${trialParameters.learningRate}",
                                "--max-depth=${trialParameters.maxDepth}",
                                "--max-iter=${trialParameters.maxIter}",
                            ],
                        }],
                    }}},
                },
            },
        },
    }
