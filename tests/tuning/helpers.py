"""A live tuning service (`mlp serve tuning` as a subprocess), a small HTTP client for it, and helpers.

Experiments are written as Katib users write them (YAML), with `{{python}}` and `{{objectives}}`
standing for this interpreter and the objective scripts in tests/tuning/objectives/.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import requests
import yaml

from tests.support.service_process import ServiceProcess

OBJECTIVES = Path(__file__).resolve().parent / "objectives"


# Katib's Branin example as a user writes it; {{name}}, {{algorithm}}, {{trials}} and {{settings}} (more
# algorithmSettings entries) are filled per test.
BRANIN = """
apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata:
  namespace: kubeflow
  name: {{name}}
spec:
  objective:
    type: minimize
    objectiveMetricName: loss
  algorithm:
    algorithmName: {{algorithm}}
    algorithmSettings:
      - name: random_state
        value: "7"
{{settings}}
  parallelTrialCount: 1
  maxTrialCount: {{trials}}
  maxFailedTrialCount: 1
  parameters:
    - name: x1
      parameterType: double
      feasibleSpace:
        min: "-5"
        max: "10"
    - name: x2
      parameterType: double
      feasibleSpace:
        min: "0"
        max: "15"
  trialTemplate:
    primaryContainerName: training-container
    trialParameters:
      - name: firstCoordinate
        description: x1 of the Branin function
        reference: x1
      - name: secondCoordinate
        description: x2 of the Branin function
        reference: x2
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
                  - "{{objectives}}/branin.py"
                  - "--x1=${trialParameters.firstCoordinate}"
                  - "--x2=${trialParameters.secondCoordinate}"
            restartPolicy: Never
"""


def katib_yaml(text: str, **values) -> str:
    """Experiment YAML with the local interpreter and objective scripts filled in."""
    text = text.replace("{{python}}", sys.executable).replace("{{objectives}}", str(OBJECTIVES))
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", str(value))
    return text


def condition(experiment: dict, kind: str) -> dict | None:
    for item in experiment.get("status", {}).get("conditions", []):
        if item["type"] == kind and item["status"] == "True":
            return item
    return None


def finished(experiment: dict) -> dict | None:
    return condition(experiment, "Succeeded") or condition(experiment, "Failed")


class TuningService(ServiceProcess):
    """A live tuning service (`mlp serve tuning`) and the calls the tests make to it."""

    def __init__(self, workdir: Path, *, max_parallel: int = 4, env: dict | None = None,
                 extra_args: list[str] | None = None):
        super().__init__("tuning", workdir, max_parallel=max_parallel, env=env, args=extra_args or ())

    # --- the API ------------------------------------------------------------------------------------------

    def submit(self, body: str | dict, content_type: str = "application/yaml") -> requests.Response:
        if isinstance(body, dict):
            return requests.post(f"{self.url}/api/v1/experiments", json=body, timeout=30)
        return requests.post(
            f"{self.url}/api/v1/experiments",
            data=body.encode(),
            headers={"Content-Type": content_type},
            timeout=30,
        )

    def create(self, body: str | dict) -> dict:
        response = self.submit(body)
        assert response.status_code == 201, response.text
        return response.json()

    def experiment(self, name: str) -> dict:
        response = requests.get(f"{self.url}/api/v1/experiments/{name}", timeout=30)
        assert response.status_code == 200, response.text
        return response.json()

    def trials(self, name: str) -> list[dict]:
        response = requests.get(f"{self.url}/api/v1/experiments/{name}/trials", timeout=30)
        assert response.status_code == 200, response.text
        return response.json()["items"]

    def patch(self, name: str, body: dict) -> requests.Response:
        return requests.patch(f"{self.url}/api/v1/experiments/{name}", json=body, timeout=30)

    def delete(self, name: str) -> requests.Response:
        return requests.delete(f"{self.url}/api/v1/experiments/{name}", timeout=60)

    def wait_until(self, name: str, predicate, timeout: float = 90.0, what: str = "the condition") -> dict:
        deadline = time.monotonic() + timeout
        while True:
            experiment = self.experiment(name)
            if predicate(experiment):
                return experiment
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"experiment {name}: timed out after {timeout}s waiting for {what}; "
                    f"status: {experiment.get('status')}\n--- service log ---\n{self.logs()[-4000:]}"
                )
            time.sleep(0.2)

    def wait_finished(self, name: str, timeout: float = 120.0) -> dict:
        return self.wait_until(name, finished, timeout, "it to finish")


def trial_state(trial: dict) -> str:
    """The trial's last condition type: Succeeded, Failed, EarlyStopped, Killed, Running or Created."""
    true = [item for item in trial["status"]["conditions"] if item["status"] == "True"]
    return true[-1]["type"]


def assignments(trial: dict) -> dict[str, str]:
    return {item["name"]: item["value"] for item in trial["spec"]["parameterAssignments"]}


def metric(observed: dict, name: str, key: str = "latest") -> str:
    return next(item[key] for item in observed["metrics"] if item["name"] == name)


def load(text: str) -> dict:
    return yaml.safe_load(text)
