"""Cluster mode: the training operator as the controller of `kubeflow.org/v1` PyTorchJobs and TFJobs.

Every `interval` seconds it lists the jobs in the namespaces it watches and reconciles each with the
engine, the one model behind every door:

- a new job is parsed and adopted under its Kubernetes uid (the engine then creates its replicas, owned
  by it); one the operator refuses gets a Failed condition naming every problem;
- `.status` is written through the status subresource whenever the engine's changed, and each condition
  that becomes True is recorded as an Event on the job (Warning for Failed and Restarting);
- a job that is gone is deleted from the engine (its replicas go with it through their ownerReferences);
- a finished job the engine no longer has was deleted by ttlSecondsAfterFinished: the object goes too.
"""

from __future__ import annotations

import logging

from kubernetes import client
from kubernetes.client.rest import ApiException

from mlplatform.kubeapi import KubeError
from mlplatform.kubeapi.controller import PollingController
from mlplatform.training import status as conditions
from mlplatform.training.engine import Engine
from mlplatform.training.spec import FLAVOURS, GROUP, VERSION, Flavour, parse_job
from mlplatform.training.store import JobExists

log = logging.getLogger("mlplatform.training.controller")
KEPT_METADATA = ("name", "namespace", "uid", "labels", "annotations")


class TrainingJobController(PollingController):
    def __init__(self, engine: Engine, api: client.ApiClient, namespaces: list[str] | None, interval: float = 1.0):
        super().__init__(api, GROUP, VERSION, namespaces, interval, name="training-job-controller")
        self.engine = engine
        self.core = client.CoreV1Api(api)

    def sync(self) -> None:
        present = set()
        for flavour in FLAVOURS.values():
            for item in self._list(flavour.plural):
                present.add(item["metadata"]["uid"])
                if not item["metadata"].get("deletionTimestamp"):
                    self._reconcile(flavour, item)
        self._forget_deleted(present)

    def _reconcile(self, flavour: Flavour, item: dict) -> None:
        metadata = item["metadata"]
        record = self.engine.store.get(flavour.kind, metadata["namespace"], metadata["name"])
        if record is not None and record.uid != metadata["uid"]:
            self.engine.delete(record)   # the object was deleted and made again under the same name
            record = None
        if record is None:
            self._adopt(flavour, item)
        elif item.get("status") != record.status:
            self._write_status(flavour, item, record.status)

    def _adopt(self, flavour: Flavour, item: dict) -> None:
        status = item.get("status") or {}
        if conditions.is_finished(status):
            self._delete_if_expired(flavour, item)
            return
        manifest = {"apiVersion": item["apiVersion"], "kind": item["kind"], "spec": item.get("spec"),
                    "metadata": {key: item["metadata"][key] for key in KEPT_METADATA if key in item["metadata"]}}
        try:
            record = self.engine.create(parse_job(manifest, flavour), uid=item["metadata"]["uid"])
        except KubeError as error:
            self._refuse(flavour, item, error)
            return
        except JobExists:
            return
        log.info("%s %s/%s adopted", flavour.kind, item["metadata"]["namespace"], item["metadata"]["name"])
        self._write_status(flavour, item, record.status)

    def _refuse(self, flavour: Flavour, item: dict, error: KubeError) -> None:
        status: dict = {}
        conditions.set_condition(status, conditions.FAILED, flavour.kind, error.message)
        status["completionTime"] = conditions.timestamp()
        log.warning("%s %s/%s refused: %s", flavour.kind, item["metadata"]["namespace"], item["metadata"]["name"],
                    error.message)
        self._write_status(flavour, item, status)

    def _delete_if_expired(self, flavour: Flavour, item: dict) -> None:
        """A finished job the engine does not have: ttlSecondsAfterFinished deleted it, or it was refused."""
        ttl = ((item.get("spec") or {}).get("runPolicy") or {}).get("ttlSecondsAfterFinished")
        refused = not (item.get("status") or {}).get("startTime")
        if ttl is not None and not refused:
            self._delete(flavour, item)

    def _forget_deleted(self, present: set[str]) -> None:
        for record in self.engine.store.jobs():
            if record.runtime.get("adopted") and record.uid not in present and self._watches(record.namespace):
                log.info("%s %s/%s was deleted; stopping its replicas", record.kind, record.namespace, record.name)
                self.engine.delete(record)

    # --- the API -----------------------------------------------------------------------------------------

    def _write_status(self, flavour: Flavour, item: dict, status: dict) -> None:
        self._record_events(flavour, item, status)
        try:
            self.custom.patch_namespaced_custom_object_status(
                GROUP, VERSION, item["metadata"]["namespace"], flavour.plural, item["metadata"]["name"],
                {"status": status})
        except ApiException as error:
            if error.status != 404:
                raise

    def _record_events(self, flavour: Flavour, item: dict, status: dict) -> None:
        """An Event for each condition that became True since the status the object has."""
        before = {(c.get("type"), c.get("lastTransitionTime"))
                  for c in (item.get("status") or {}).get("conditions") or [] if c.get("status") == "True"}
        metadata = item["metadata"]
        for condition in status.get("conditions") or []:
            if condition["status"] == "True" and (condition["type"], condition["lastTransitionTime"]) not in before:
                event = conditions.job_event(flavour.kind, metadata["namespace"], metadata["name"], metadata["uid"],
                                             condition)
                try:
                    self.core.create_namespaced_event(metadata["namespace"], event)
                except ApiException as error:
                    if error.status != 409:   # recorded by an earlier pass
                        log.warning("event for %s/%s: %s %s", metadata["namespace"], metadata["name"],
                                    error.status, error.reason)

    def _delete(self, flavour: Flavour, item: dict) -> None:
        try:
            self.custom.delete_namespaced_custom_object(GROUP, VERSION, item["metadata"]["namespace"], flavour.plural,
                                                        item["metadata"]["name"])
        except ApiException as error:
            if error.status != 404:
                raise
