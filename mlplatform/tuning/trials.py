"""Running trials: the trial template made concrete, and the backends that execute it.

`render(experiment, trial)` substitutes `${trialParameters.*}` in the trialSpec, as Katib does. A
backend starts the result, reports its state, and returns the metrics it reported:

- `JobTrials`: a batch Job trialSpec on the shared runner interface (`mlplatform.runners`). The local
  runner runs the primary container's command as a subprocess; the Kubernetes runner creates the
  substituted Job itself (`TaskSpec.job_manifest`).
- `PipelineTrials` (pipeline_trials.py): a `PipelineRun` trialSpec, one run on the pipeline controller.
"""

from __future__ import annotations

import copy
import posixpath
import time
from abc import ABC, abstractmethod

from mlplatform.runners import Resources, Runner, TaskSpec, TaskStatus
from mlplatform.runners.kubernetes import profile_service_account
from mlplatform.tuning.collectors import Collector, MetricLog
from mlplatform.tuning.spec import TRIAL_METADATA_REFERENCE, TRIAL_PARAMETER_PLACEHOLDER, Experiment
from mlplatform.tuning.store import Store, TrialRecord
from mlplatform.tuning.trial_tokens import TRIAL_TOKEN_VARIABLE, trial_token

EXPERIMENT_LABEL = "katib.kubeflow.org/experiment"
TRIAL_LABEL = "katib.kubeflow.org/trial"
TRIAL_NAME_VARIABLE = "KATIB_TRIAL_NAME"  # what Katib's own report_metrics() reads
TUNING_URL_VARIABLE = "MLP_TUNING_URL"  # where report_metrics() posts
METRICS_VOLUME = "mlp-metrics"  # the emptyDir each Kubernetes trial gets at its metrics file's directory


class TrialBackend(ABC):
    """Executes trials of one trialSpec kind. Trial names double as task and Job names."""

    poll_seconds = 0.5   # how often the default `wait` asks `status`

    @abstractmethod
    def start(self, experiment: Experiment, trial: TrialRecord) -> None: ...

    @abstractmethod
    def status(self, trial: TrialRecord) -> TaskStatus:
        """The trial's execution state; raises TaskNotFound when nothing runs under its name."""

    def wait(self, trial: TrialRecord, timeout: float) -> TaskStatus:
        """Poll `status` until the trial finishes or `timeout` passes (a backend with its own wait overrides it)."""
        deadline = time.monotonic() + timeout
        while True:
            status = self.status(trial)
            if status.state.finished or time.monotonic() >= deadline:
                return status
            time.sleep(self.poll_seconds)

    @abstractmethod
    def metric_logs(self, experiment: Experiment, trial: TrialRecord) -> list[MetricLog]: ...

    @abstractmethod
    def output(self, trial: TrialRecord) -> str:
        """What the trial wrote so far (stdout and stderr), or where to find it."""

    @abstractmethod
    def cancel(self, trial: TrialRecord) -> None: ...

    @abstractmethod
    def delete(self, trial: TrialRecord) -> None: ...


# --- the template -----------------------------------------------------------------------------------------


def parameter_values(experiment: Experiment, trial: TrialRecord) -> dict[str, str]:
    """Each trial parameter's value for this trial: an assignment, or trial metadata."""
    assignments = trial.parameters()
    metadata = experiment.template.trial_spec.get("metadata") or {}
    values = {}
    for parameter in experiment.template.parameters:
        if parameter.reference in assignments:
            values[parameter.name] = assignments[parameter.reference]
            continue
        match = TRIAL_METADATA_REFERENCE.match(parameter.reference)
        field, label, annotation = match.groups()
        if label is not None:
            values[parameter.name] = str((metadata.get("labels") or {}).get(label, ""))
        elif annotation is not None:
            values[parameter.name] = str((metadata.get("annotations") or {}).get(annotation, ""))
        else:
            values[parameter.name] = {
                "Name": trial.name,
                "Namespace": experiment.namespace,
                "Kind": experiment.template.trial_spec.get("kind", ""),
                "APIVersion": experiment.template.trial_spec.get("apiVersion", ""),
            }[field]
    return values


def substitute(node, values: dict[str, str]):
    """A copy of `node` with every `${trialParameters.name}` in its strings replaced by text."""
    if isinstance(node, dict):
        return {key: substitute(value, values) for key, value in node.items()}
    if isinstance(node, list):
        return [substitute(item, values) for item in node]
    if isinstance(node, str):
        return TRIAL_PARAMETER_PLACEHOLDER.sub(lambda match: values[match.group(1)], node)
    return node


def render(experiment: Experiment, trial: TrialRecord) -> dict:
    """The trialSpec for this trial, named after it: what the trial runs (Trial.spec.runSpec)."""
    spec = substitute(copy.deepcopy(experiment.template.trial_spec), parameter_values(experiment, trial))
    metadata = spec.setdefault("metadata", {})
    metadata["name"] = trial.name
    metadata["namespace"] = experiment.namespace
    metadata.setdefault("labels", {}).update({EXPERIMENT_LABEL: experiment.name, TRIAL_LABEL: trial.name})
    return spec


# --- Job trials ---------------------------------------------------------------------------------------------


class JobTrials(TrialBackend):
    """Job trials on a runner. Metrics come from the task's output, or from pushes stored by the service."""

    def __init__(self, runner: Runner, store: Store, tuning_url: str, profiles_release: str | None = None):
        self.runner = runner
        self.store = store
        self.tuning_url = tuning_url
        # Multi-user mode with the Kubernetes runner: each trial's Job goes to its experiment's namespace and runs
        # as the runner ServiceAccount that values.profiles made there for this release.
        self.profiles_release = profiles_release

    def _runner_for(self, trial: TrialRecord) -> Runner:
        if self.profiles_release is None:
            return self.runner
        return self.runner.in_namespace(trial.experiment.split(".", 1)[0])

    def task(self, experiment: Experiment, trial: TrialRecord) -> TaskSpec:
        job = render(experiment, trial)
        container = _primary(job, experiment.template.primary_container)
        argv = [str(arg) for arg in (container.get("command") or []) + (container.get("args") or [])]
        metrics_path = experiment.collector.path
        if experiment.collector.kind == "File":
            argv, metrics_path = self._private_metrics_file(job, container, argv, metrics_path, trial)
        argv = Collector(experiment.collector, experiment.objective.metric_names).command(argv, metrics_path)
        container["command"] = argv
        container.pop("args", None)
        if self.profiles_release is not None:
            pod = job.setdefault("spec", {}).setdefault("template", {}).setdefault("spec", {})
            pod["serviceAccountName"] = profile_service_account(self.profiles_release, experiment.namespace)
        container["env"] = [
            *(container.get("env") or []),
            {"name": TRIAL_NAME_VARIABLE, "value": trial.name},
            {"name": TUNING_URL_VARIABLE, "value": self.tuning_url},
            {"name": TRIAL_TOKEN_VARIABLE, "value": trial_token(self.store, trial.name)},
        ]
        return TaskSpec(
            name=trial.name,
            command=argv,
            image=str(container.get("image", "")),
            env={item["name"]: str(item["value"]) for item in container["env"] if "value" in item},
            resources=_resources(container.get("resources") or {}),
            labels=dict(job["metadata"]["labels"]),
            timeout_seconds=(job.get("spec") or {}).get("activeDeadlineSeconds"),
            job_manifest=job,
        )

    def _private_metrics_file(
        self, job: dict, container: dict, argv: list[str], path: str, trial: TrialRecord
    ) -> tuple[list[str], str]:
        """Give the trial its own copy of the File collector's directory, as Katib's emptyDir does: locally
        the directory moves under the trial's task directory (the path is rewritten in the command); in a
        cluster an emptyDir is mounted at it. A relative path is already private (the trial's own cwd)."""
        if not posixpath.isabs(path):
            return argv, path
        directory = posixpath.dirname(path)
        if self.runner.kind != "local":
            if directory != "/":
                _mount_empty_dir(job, container, directory)
            return argv, path
        private = str(self.runner.state_dir / trial.name / "metrics") + (directory if directory != "/" else "")
        original = path if directory == "/" else directory
        target = private + "/" + posixpath.basename(path) if directory == "/" else private
        return [arg.replace(original, target) for arg in argv], path.replace(original, target, 1)

    def start(self, experiment: Experiment, trial: TrialRecord) -> None:
        self._runner_for(trial).start(self.task(experiment, trial))

    def status(self, trial: TrialRecord) -> TaskStatus:
        return self._runner_for(trial).status(trial.name)

    def wait(self, trial: TrialRecord, timeout: float) -> TaskStatus:
        return self._runner_for(trial).wait(trial.name, timeout=timeout)

    def metric_logs(self, experiment: Experiment, trial: TrialRecord) -> list[MetricLog]:
        collector = Collector(experiment.collector, experiment.objective.metric_names)
        if experiment.collector.kind == "Push":
            return collector.collect("", self.store.metric_logs(trial.name))
        return collector.collect(self._runner_for(trial).logs(trial.name), [])

    def output(self, trial: TrialRecord) -> str:
        return self._runner_for(trial).logs(trial.name)

    def cancel(self, trial: TrialRecord) -> None:
        self._runner_for(trial).cancel(trial.name)

    def delete(self, trial: TrialRecord) -> None:
        self._runner_for(trial).delete(trial.name)


def _mount_empty_dir(job: dict, container: dict, directory: str) -> None:
    pod = job["spec"]["template"]["spec"]
    pod["volumes"] = [*(pod.get("volumes") or []), {"name": METRICS_VOLUME, "emptyDir": {}}]
    container["volumeMounts"] = [
        *(container.get("volumeMounts") or []), {"name": METRICS_VOLUME, "mountPath": directory}
    ]


def _primary(job: dict, name: str) -> dict:
    containers = job["spec"]["template"]["spec"]["containers"]
    return next(container for container in containers if container.get("name") == name)


def _resources(resources: dict) -> Resources | None:
    requests, limits = resources.get("requests") or {}, resources.get("limits") or {}
    if not requests and not limits:
        return None
    accelerator = next((key for key in {**requests, **limits} if key not in ("cpu", "memory")), None)
    return Resources(
        cpu_request=_quantity(requests.get("cpu")),
        cpu_limit=_quantity(limits.get("cpu")),
        memory_request=_quantity(requests.get("memory")),
        memory_limit=_quantity(limits.get("memory")),
        accelerator_type=accelerator,
        accelerator_count=int(limits.get(accelerator) or requests.get(accelerator)) if accelerator else None,
    )


def _quantity(value) -> str | None:
    return None if value is None else str(value)
