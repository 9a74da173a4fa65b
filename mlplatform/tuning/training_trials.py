"""Trials that are Training Operator jobs: a `kubeflow.org/v1` PyTorchJob or TFJob trialSpec.

As in Katib, the substituted trialSpec is created as it is, named after the trial; the trial ends when
the job's `successCondition` or `failureCondition` (its `Succeeded` / `Failed` condition) is True, and
its StdOut metrics come from the log of the primary pod (`primaryPodLabels`, by default the master or TF
chief: `training.kubeflow.org/job-role: master`), container `primaryContainerName`.

One backend, two places to create the job, both through the Kubernetes REST API:
- local mode (`--training-url`): the training operator's own API, which runs the replicas as processes;
- `--runner kubernetes`: the cluster's API, in the experiment's namespace, owned by the Trial object
  when the controller has created it (`--watch-namespaces`), so deleting the Trial deletes the job.
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass
from datetime import datetime

from kubernetes import client
from kubernetes.client.rest import ApiException

from mlplatform.kube import request_timeout
from mlplatform.runners import TaskNotFound, TaskState, TaskStatus
from mlplatform.tuning.collectors import Collector, MetricLog
from mlplatform.tuning.spec import API_VERSION as KATIB_API_VERSION
from mlplatform.tuning.spec import TRAINING_KINDS, Experiment, TrialTemplate, parse_experiment
from mlplatform.tuning.store import Store, TrialRecord
from mlplatform.tuning.trial_tokens import TRIAL_TOKEN_VARIABLE, trial_token
from mlplatform.tuning.trials import TRIAL_NAME_VARIABLE, TUNING_URL_VARIABLE, TrialBackend, render

GROUP, VERSION = "kubeflow.org", "v1"
JOB_NAME_LABEL = "training.kubeflow.org/job-name"
POLL_SECONDS = 0.25
TIMEOUT = request_timeout(30)
_PLURALS = {"PyTorchJob": "pytorchjobs", "TFJob": "tfjobs"}


@dataclass(frozen=True)
class Placement:
    """Where a trial's job is, and the template it came from."""

    namespace: str
    plural: str
    template: TrialTemplate


class TrainingJobTrials(TrialBackend):
    """PyTorchJob and TFJob trials. `own_by_trial`: set the Trial object as the job's owner (a cluster)."""

    poll_seconds = POLL_SECONDS

    def __init__(self, api: client.ApiClient, store: Store, tuning_url: str, own_by_trial: bool = False):
        self.custom = client.CustomObjectsApi(api)
        self.core = client.CoreV1Api(api)
        self.store = store
        self.tuning_url = tuning_url
        self.own_by_trial = own_by_trial
        self._placements: dict[str, Placement] = {}  # by trial name; learnt on start, or after a restart
        self._cancelled: set[str] = set()
        self._lock = threading.Lock()

    # --- the backend ------------------------------------------------------------------------------------

    def start(self, experiment: Experiment, trial: TrialRecord) -> None:
        job = self.manifest(experiment, trial)
        place = self._place(trial, experiment)
        owner = self._trial_owner(place.namespace, trial.name) if self.own_by_trial else None
        if owner:
            job["metadata"]["ownerReferences"] = [owner]
        self.custom.create_namespaced_custom_object(GROUP, VERSION, place.namespace, place.plural, job,
                                                    _request_timeout=TIMEOUT)

    def manifest(self, experiment: Experiment, trial: TrialRecord) -> dict:
        """The substituted job; each replica's primary container is told the trial's name, its token and
        where to push metrics, as a Job trial's container is."""
        job = render(experiment, trial)
        replicas_field, _ = TRAINING_KINDS[job["kind"]]
        for replica in job["spec"][replicas_field].values():
            for container in replica["template"]["spec"]["containers"]:
                if container.get("name") == experiment.template.primary_container:
                    container["env"] = [
                        *(container.get("env") or []),
                        {"name": TRIAL_NAME_VARIABLE, "value": trial.name},
                        {"name": TUNING_URL_VARIABLE, "value": self.tuning_url},
                        {"name": TRIAL_TOKEN_VARIABLE, "value": trial_token(self.store, trial.name)},
                    ]
        return job

    def status(self, trial: TrialRecord) -> TaskStatus:
        job = self._job(trial)
        if job is None:
            if trial.name in self._cancelled:
                return TaskStatus(TaskState.CANCELLED, reason="Cancelled", message="the job was deleted")
            raise TaskNotFound(trial.name)
        if self.own_by_trial and not job["metadata"].get("ownerReferences"):
            self._adopt(job)
        return job_status(job, self._placement(trial).template)

    def metric_logs(self, experiment: Experiment, trial: TrialRecord) -> list[MetricLog]:
        collector = Collector(experiment.collector, experiment.objective.metric_names)
        if experiment.collector.kind == "Push":
            return collector.collect("", self.store.metric_logs(trial.name))
        return collector.collect(self.output(trial), [])

    def output(self, trial: TrialRecord) -> str:
        """The primary pod's log (the master's, or the TF chief's)."""
        place = self._placement(trial)
        labels = {JOB_NAME_LABEL: trial.name, **dict(place.template.primary_pod_labels)}
        selector = ",".join(f"{key}={value}" for key, value in labels.items())
        pods = self.core.list_namespaced_pod(place.namespace, label_selector=selector, _request_timeout=TIMEOUT).items
        if not pods:
            return ""
        return self.core.read_namespaced_pod_log(pods[0].metadata.name, place.namespace,
                                                 container=place.template.primary_container, _request_timeout=TIMEOUT)

    def cancel(self, trial: TrialRecord) -> None:
        """The Training Operator has no cancel: the job is deleted, as Katib deletes a killed trial's job."""
        with self._lock:
            self._cancelled.add(trial.name)
        self.delete(trial)

    def delete(self, trial: TrialRecord) -> None:
        place = self._placement(trial)
        try:
            self.custom.delete_namespaced_custom_object(GROUP, VERSION, place.namespace, place.plural, trial.name,
                                                        _request_timeout=TIMEOUT)
        except ApiException as error:
            if error.status != 404:
                raise
            raise TaskNotFound(trial.name) from None

    # --- helpers ------------------------------------------------------------------------------------------

    def _job(self, trial: TrialRecord) -> dict | None:
        place = self._placement(trial)
        try:
            return self.custom.get_namespaced_custom_object(GROUP, VERSION, place.namespace, place.plural, trial.name,
                                                            _request_timeout=TIMEOUT)
        except ApiException as error:
            if error.status == 404:
                return None
            raise

    def _placement(self, trial: TrialRecord) -> Placement:
        with self._lock:
            known = self._placements.get(trial.name)
        if known is not None:
            return known
        record = self.store.experiment(trial.experiment)
        if record is None:
            raise TaskNotFound(trial.name)
        return self._place(trial, parse_experiment(copy.deepcopy(record.manifest)))

    def _place(self, trial: TrialRecord, experiment: Experiment) -> Placement:
        place = Placement(experiment.namespace, _PLURALS[experiment.template.kind], experiment.template)
        with self._lock:
            self._placements[trial.name] = place
        return place

    def _trial_owner(self, namespace: str, name: str) -> dict | None:
        group, version = KATIB_API_VERSION.split("/")
        try:
            trial = self.custom.get_namespaced_custom_object(group, version, namespace, "trials", name,
                                                             _request_timeout=TIMEOUT)
        except ApiException as error:
            if error.status == 404:
                return None  # the controller creates the Trial object just after the trial starts
            raise
        return {"apiVersion": KATIB_API_VERSION, "kind": "Trial", "name": name, "uid": trial["metadata"]["uid"],
                "controller": True, "blockOwnerDeletion": True}

    def _adopt(self, job: dict) -> None:
        """Give a job created before its Trial object existed the Trial as its owner."""
        metadata = job["metadata"]
        owner = self._trial_owner(metadata["namespace"], metadata["name"])
        if owner:
            self.custom.patch_namespaced_custom_object(
                GROUP, VERSION, metadata["namespace"], _PLURALS[job["kind"]], metadata["name"],
                {"metadata": {"ownerReferences": [owner]}}, _request_timeout=TIMEOUT)


def job_status(job: dict, template) -> TaskStatus:
    """The trial's state from the job's conditions: the template's success and failure conditions decide."""
    status = job.get("status") or {}
    true = {item.get("type"): item for item in status.get("conditions") or [] if item.get("status") == "True"}
    started, finished = _epoch(status.get("startTime")), _epoch(status.get("completionTime"))
    if template.success_condition in true:
        condition = true[template.success_condition]
        return TaskStatus(TaskState.SUCCEEDED, 0, condition.get("reason", ""), condition.get("message", ""),
                          started, finished)
    if template.failure_condition in true:
        condition = true[template.failure_condition]
        return TaskStatus(TaskState.FAILED, None, condition.get("reason", "JobFailed"),
                          condition.get("message", ""), started, finished)
    state = TaskState.RUNNING if "Running" in true or "Restarting" in true else TaskState.PENDING
    return TaskStatus(state, started_at=started)


def _epoch(moment: str | None) -> float | None:
    if not moment:
        return None
    return datetime.fromisoformat(moment).timestamp()
