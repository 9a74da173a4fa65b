"""Cluster mode: the tuning service as the controller of `kubeflow.org/v1beta1` Experiments.

Every `interval` seconds it lists the Experiments in the namespaces it watches (one, several, or all)
and reconciles each with the engine, the one model behind every door:

- a new Experiment is parsed and started (a bad one gets a Failed condition naming every problem);
- a changed count (parallelTrialCount, maxTrialCount, maxFailedTrialCount: `kubectl patch`) is applied,
  with Katib's resume rules;
- `.status` is written through the status subresource when it changed;
- each trial becomes a Trial object owned by its Experiment, its `.status` kept current;
- an Experiment that is gone is deleted from the engine with its trials (and their Trial objects).

Experiments it adopted carry their Kubernetes uid in the stored manifest (`metadata.uid`): that is
how it tells them from experiments submitted to /api/v1, which it leaves alone.
"""

from __future__ import annotations

import logging
import time

from kubernetes import client
from kubernetes.client.rest import ApiException

from mlplatform.kubeapi.controller import PollingController
from mlplatform.tuning.engine import Engine, NotFound
from mlplatform.tuning.spec import API_VERSION, COUNT_FIELDS, SpecError, experiment_key, parse_experiment
from mlplatform.tuning.status import experiment_object, timestamp, trial_object
from mlplatform.tuning.store import ExperimentExists
from mlplatform.tuning.trials import EXPERIMENT_LABEL

log = logging.getLogger("mlplatform.tuning.controller")
GROUP, VERSION = API_VERSION.split("/")
KEPT_METADATA = ("name", "namespace", "uid", "labels", "annotations")


class ExperimentController(PollingController):
    def __init__(self, engine: Engine, api: client.ApiClient, namespaces: list[str] | None, interval: float = 1.0):
        super().__init__(api, GROUP, VERSION, namespaces, interval, name="experiment-controller")
        self.engine = engine

    # --- one pass ----------------------------------------------------------------------------------------

    def sync(self) -> None:
        present = set()
        for item in self._list("experiments"):
            metadata = item["metadata"]
            present.add(metadata["uid"])
            if metadata.get("deletionTimestamp"):
                continue
            try:
                self._reconcile(item)
            except ApiException as error:
                log.warning("experiment %s/%s: %s %s", metadata["namespace"], metadata["name"], error.status, error.reason)
        self._forget_deleted(present)

    def _reconcile(self, item: dict) -> None:
        name, uid = item["metadata"]["name"], item["metadata"]["uid"]
        record = self.engine.store.experiment(experiment_key(item["metadata"]["namespace"], name))
        if record is None:
            self._adopt(item)
            return
        if record.manifest["metadata"].get("uid") != uid:
            self._refuse(item, [f"the name {name} is taken by an experiment submitted to /api/v1"])
            return
        self._apply_counts(item, record)
        self._publish(item)

    def _adopt(self, item: dict) -> None:
        if _condition(item, "Failed"):
            return  # refused before; the user fixes it by deleting and applying again
        manifest = {
            "apiVersion": item["apiVersion"],
            "kind": item["kind"],
            "metadata": {key: item["metadata"][key] for key in KEPT_METADATA if key in item["metadata"]},
            "spec": item.get("spec"),
        }
        try:
            experiment = parse_experiment(manifest)
            problem = self.engine.backend_available(experiment)
            if problem:
                raise SpecError([problem])
            self.engine.create(experiment)
        except SpecError as error:
            self._refuse(item, error.problems)
            return
        except ExperimentExists:
            self._refuse(item, [f"the name {manifest['metadata']['name']} is taken by another experiment"])
            return
        log.info("experiment %s/%s adopted", item["metadata"]["namespace"], item["metadata"]["name"])
        self._publish(item)

    def _apply_counts(self, item: dict, record) -> None:
        wanted, current = item.get("spec") or {}, record.manifest["spec"]
        changes = {key: wanted.get(key) for key in COUNT_FIELDS if wanted.get(key) != current.get(key)}
        if not changes:
            return
        try:
            self.engine.patch(record.name, changes)
        except SpecError as error:
            log.warning("experiment %s: change refused: %s", record.name, error)

    # --- status and trials ---------------------------------------------------------------------------------

    def _publish(self, item: dict) -> None:
        namespace, name = item["metadata"]["namespace"], item["metadata"]["name"]
        try:
            record, experiment = self.engine.experiment(experiment_key(namespace, name))
        except NotFound:
            return
        trials = self.engine.store.trials(record.name)
        status = experiment_object(record, experiment, trials)["status"]
        if item.get("status") != status:
            self._write_status("experiments", namespace, name, status)
        owner = _owner(item)
        existing = {
            trial["metadata"]["name"]: trial
            for trial in self.custom.list_namespaced_custom_object(
                GROUP, VERSION, namespace, "trials", label_selector=f"{EXPERIMENT_LABEL}={name}"
            )["items"]
        }
        for trial in trials:
            wanted = trial_object(trial, experiment)
            current = existing.get(trial.name)
            if current is None:
                body = {key: value for key, value in wanted.items() if key != "status"}
                body["metadata"]["ownerReferences"] = [owner]
                self.custom.create_namespaced_custom_object(GROUP, VERSION, namespace, "trials", body)
            if current is None or current.get("status") != wanted["status"]:
                self._write_status("trials", namespace, trial.name, wanted["status"])

    def _refuse(self, item: dict, problems: list[str]) -> None:
        now = timestamp(time.time())
        message = "cannot run: " + "; ".join(problems)
        condition = {"type": "Failed", "status": "True", "reason": "ExperimentFailed", "message": message,
                     "lastUpdateTime": now, "lastTransitionTime": now}
        if _condition(item, "Failed") and _condition(item, "Failed")["message"] == message:
            return
        log.warning("experiment %s/%s refused: %s", item["metadata"]["namespace"], item["metadata"]["name"], message)
        self._write_status("experiments", item["metadata"]["namespace"], item["metadata"]["name"],
                           {"conditions": [condition], "completionTime": now})

    def _write_status(self, plural: str, namespace: str, name: str, status: dict) -> None:
        self.custom.patch_namespaced_custom_object_status(GROUP, VERSION, namespace, plural, name, {"status": status})

    # --- deletion --------------------------------------------------------------------------------------------

    def _forget_deleted(self, present: set[str]) -> None:
        for record in self.engine.store.experiments():
            metadata = record.manifest["metadata"]
            uid = metadata.get("uid")
            if uid is None or uid in present or not self._watches(metadata.get("namespace")):
                continue
            log.info("experiment %s/%s was deleted; deleting its trials", metadata.get("namespace"), record.name)
            try:
                self.engine.delete(record.name)
            except NotFound:
                pass
            self._delete_trials(metadata["namespace"], metadata["name"])

    def _delete_trials(self, namespace: str, experiment: str) -> None:
        """What garbage collection does in a cluster (the Trials are owned by the Experiment), done at once."""
        trials = self.custom.list_namespaced_custom_object(
            GROUP, VERSION, namespace, "trials", label_selector=f"{EXPERIMENT_LABEL}={experiment}"
        )["items"]
        for trial in trials:
            try:
                self.custom.delete_namespaced_custom_object(GROUP, VERSION, namespace, "trials", trial["metadata"]["name"])
            except ApiException as error:
                if error.status != 404:
                    raise


def _condition(item: dict, kind: str) -> dict | None:
    for condition in (item.get("status") or {}).get("conditions") or []:
        if condition.get("type") == kind and condition.get("status") == "True":
            return condition
    return None


def _owner(item: dict) -> dict:
    return {"apiVersion": API_VERSION, "kind": "Experiment", "name": item["metadata"]["name"],
            "uid": item["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}
