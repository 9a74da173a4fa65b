"""Trials that are pipeline runs on the pipeline controller (`--pipelines-url`).

The trialSpec kind, defined by this service:

    trialSpec:
      apiVersion: pipelines.mlplatform.io/v1alpha1
      kind: PipelineRun
      spec:
        pipelineName: fraud-training        # an uploaded pipeline ...
        pipelineVersion: v1                 # ... at this version (default: its newest)
        # pipelineSpec: {...}               # ... or the compiled pipeline (kfp.compiler's YAML) inline
        experimentName: fraud-tuning        # the runs' KFP experiment (default: the tuning experiment's name)
        metricsTaskName: evaluate           # the task whose Metrics artifact has the objective (default: any)
        parameters:                         # the pipeline's parameters
          learning_rate: "${trialParameters.learningRate}"

Each trial is one run created through `kfp.Client`. A parameter that is exactly one placeholder
receives the parameter's own type (double -> float, int -> int), as an unquoted placeholder would in
Katib's YAML; placeholders inside longer strings are text. When the run succeeds its objective and
additional metrics are read from the run's `system.Metrics` artifacts (the controller's
`GET /apis/v2beta1/runs/{run_id}/artifacts`, docs/contracts.md section 8). Runs are kept on the
controller when their trial or experiment is deleted: they are the pipeline's history.

With a token (`mlp serve tuning --pipelines-token-file`; in a pod, its ServiceAccount token) every call carries
it, read again each time, and the runs' KFP experiment is made in the tuning experiment's namespace: a
multi-user pipeline controller authorizes the tuning service's ServiceAccount there (runs create, get, update;
experiments get, list, create; pipelines get, list). A named pipeline is looked up in that namespace, then
among the shared ones.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading

import requests
import yaml

from mlplatform.auth.token_file import TokenFile
from mlplatform.hooks.pipelines import api_error_line
from mlplatform.runners import TaskNotFound, TaskState, TaskStatus
from mlplatform.tuning.collectors import MetricLog
from mlplatform.tuning.spec import TRIAL_PARAMETER_PLACEHOLDER, Experiment
from mlplatform.tuning.store import Store, TrialRecord
from mlplatform.tuning.trials import TrialBackend, parameter_values, substitute

POLL_SECONDS = 0.5
METRICS_ARTIFACT = "system.Metrics"
_RUN_STATES = {
    "PENDING": TaskState.PENDING,
    "RUNTIME_STATE_UNSPECIFIED": TaskState.PENDING,
    "RUNNING": TaskState.RUNNING,
    "CANCELING": TaskState.RUNNING,
    "PAUSED": TaskState.RUNNING,
    "SUCCEEDED": TaskState.SUCCEEDED,
    "FAILED": TaskState.FAILED,
    "SKIPPED": TaskState.FAILED,
    "CANCELED": TaskState.CANCELLED,
}


class PipelineTrials(TrialBackend):
    poll_seconds = POLL_SECONDS

    def __init__(self, pipelines_url: str, store: Store, token: TokenFile | None = None):
        self.url = pipelines_url.rstrip("/")
        self.store = store
        self.token = token
        self._client = None
        self._experiment_ids: dict[tuple[str, str | None], str] = {}
        self._lock = threading.Lock()

    # --- the backend ------------------------------------------------------------------------------------

    def start(self, experiment: Experiment, trial: TrialRecord) -> None:
        from kfp_server_api.exceptions import ApiException

        try:
            self._start(experiment, trial)
        except ApiException as error:   # one line for the trial's message: 401, 403 (multi-user), 404...
            raise RuntimeError(f"the pipeline controller at {self.url} answered {api_error_line(error)}") from None

    def _start(self, experiment: Experiment, trial: TrialRecord) -> None:
        spec = experiment.template.trial_spec["spec"]
        client = self.client()
        namespace = experiment.namespace if self.token else None
        options = {
            "experiment_id": self._experiment_id(spec.get("experimentName") or experiment.name, namespace),
            "job_name": trial.name,
            "params": run_parameters(experiment, trial),
        }
        if spec.get("pipelineSpec") is not None:
            run = self._run_inline(client, spec["pipelineSpec"], options)
        else:
            pipeline_id, version_id = self._pipeline_version(
                spec["pipelineName"], spec.get("pipelineVersion"), namespace
            )
            run = client.run_pipeline(pipeline_id=pipeline_id, version_id=version_id, **options)
        self.store.update_trial(trial.name, run_id=run.run_id)

    def status(self, trial: TrialRecord) -> TaskStatus:
        run_id = self._run_id(trial)
        run = self.client().get_run(run_id)
        state = _RUN_STATES.get(str(run.state), TaskState.RUNNING)
        message = ""
        if state is TaskState.FAILED:
            message = getattr(run.error, "message", None) or f"run {run_id} {run.state}"
        return TaskStatus(
            state,
            reason="Run" + str(run.state).title(),
            message=message,
            started_at=_epoch(run.created_at),
            finished_at=_epoch(run.finished_at),
        )

    def metric_logs(self, experiment: Experiment, trial: TrialRecord) -> list[MetricLog]:
        task = experiment.template.trial_spec["spec"].get("metricsTaskName")
        response = requests.get(f"{self.url}/apis/v2beta1/runs/{self._run_id(trial)}/artifacts",
                                headers=self.token.headers() if self.token else None, timeout=30)
        response.raise_for_status()
        logs = []
        for artifact in response.json().get("artifacts", []):
            if artifact.get("type") != METRICS_ARTIFACT or (task and artifact.get("task_name") != task):
                continue
            for name, value in (artifact.get("metadata") or {}).items():
                if name in experiment.objective.metric_names and isinstance(value, (int, float)):
                    logs.append(MetricLog(name, repr(float(value))))
        return logs

    def output(self, trial: TrialRecord) -> str:
        """A pipeline trial's output is its run's task logs, on the pipeline controller."""
        run_id = self._run_id(trial)
        return f"pipeline run {run_id}: task logs at {self.url}/apis/v2beta1/runs/{run_id} ({self.url}/#/runs/details/{run_id})\n"

    def cancel(self, trial: TrialRecord) -> None:
        self.client().terminate_run(self._run_id(trial))

    def delete(self, trial: TrialRecord) -> None:
        """Runs stay on the pipeline controller as the pipeline's history."""

    # --- kfp ----------------------------------------------------------------------------------------------

    def client(self):
        with self._lock:
            if self._client is None:
                import kfp

                credentials = self.token.kfp_credentials() if self.token else None
                self._client = kfp.Client(host=self.url, credentials=credentials)
            return self._client

    def _experiment_id(self, name: str, namespace: str | None) -> str:
        with self._lock:
            known = self._experiment_ids.get((name, namespace))
        if known is None:
            # returns the existing one too
            known = self.client().create_experiment(name, namespace=namespace).experiment_id
            with self._lock:
                self._experiment_ids[(name, namespace)] = known
        return known

    def _pipeline_id(self, name: str, namespace: str | None) -> str | None:
        """Pipeline `name` in `namespace`, else the shared (or, single-user, the only) one of that name."""
        client = self.client()
        if namespace:
            name_filter = json.dumps({"predicates": [{"operation": "EQUALS", "key": "display_name",
                                                      "string_value": name}]})
            found = client.list_pipelines(namespace=namespace, filter=name_filter, page_size=2).pipelines or []
            if found:
                return found[0].pipeline_id
        return client.get_pipeline_id(name)

    def _pipeline_version(self, pipeline: str, version: str | None, namespace: str | None) -> tuple[str, str]:
        client = self.client()
        pipeline_id = self._pipeline_id(pipeline, namespace)
        if pipeline_id is None:
            raise LookupError(f"the pipeline controller has no pipeline named {pipeline!r}")
        versions, token = [], ""
        while True:
            page = client.list_pipeline_versions(pipeline_id, page_token=token, page_size=100)
            versions.extend(page.pipeline_versions or [])
            token = page.next_page_token
            if not token:
                break
        if version is not None:
            versions = [item for item in versions if item.display_name == version]
        if not versions:
            raise LookupError(
                f"pipeline {pipeline!r} has no version {version!r}"
                if version
                else f"pipeline {pipeline!r} has no versions"
            )
        newest = max(versions, key=lambda item: item.created_at or 0)
        return pipeline_id, newest.pipeline_version_id

    def _run_inline(self, client, pipeline_spec: dict, options: dict):
        handle, path = tempfile.mkstemp(suffix=".yaml", prefix="mlp-trial-")
        try:
            with os.fdopen(handle, "w") as out:
                yaml.safe_dump(pipeline_spec, out)
            return client.run_pipeline(pipeline_package_path=path, **options)
        finally:
            os.unlink(path)

    def _run_id(self, trial: TrialRecord) -> str:
        run_id = trial.run_id or (self.store.trial(trial.name) or trial).run_id
        if not run_id:
            raise TaskNotFound(trial.name)
        return run_id


def run_parameters(experiment: Experiment, trial: TrialRecord) -> dict:
    """The run's parameters: a value that is exactly one placeholder takes the parameter's own type."""
    values = parameter_values(experiment, trial)
    types = {
        parameter.name: experiment.parameter(parameter.reference).type
        for parameter in experiment.template.parameters
        if parameter.reference in {item.name for item in experiment.parameters}
    }
    result = {}
    for key, raw in (experiment.template.trial_spec["spec"].get("parameters") or {}).items():
        match = TRIAL_PARAMETER_PLACEHOLDER.fullmatch(raw) if isinstance(raw, str) else None
        if match:
            result[key] = _native(values[match.group(1)], types.get(match.group(1)))
        else:
            result[key] = substitute(raw, values)
    return result


def _native(text: str, kind: str | None):
    if kind == "double":
        return float(text)
    if kind == "int":
        return int(text)
    if kind == "discrete":
        number = float(text)
        return int(number) if number.is_integer() and "." not in text else number
    return text


def _epoch(moment) -> float | None:
    return None if moment is None else moment.timestamp()
