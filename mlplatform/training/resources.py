"""PyTorchJob and TFJob (`kubeflow.org/v1`) as Kubernetes resources: the engine's jobs seen through
mlplatform.kubeapi, so the kubeflow-training TrainingClient, kubectl and the kubernetes client reach them.

A job's spec cannot change once created (a PUT or PATCH that changes it is 422 Invalid); its labels and
annotations can. Its status is the operator's: written by the engine, read-only here.
"""

from __future__ import annotations

import copy

from mlplatform import kubeapi
from mlplatform.training.engine import Engine
from mlplatform.training.spec import FLAVOURS, GROUP, VERSION, Flavour, parse_job
from mlplatform.training.store import JobExists, JobRecord


def job_object(record: JobRecord) -> dict:
    item = copy.deepcopy(record.manifest)
    item["status"] = copy.deepcopy(record.status)
    return item


class TrainingJobs(kubeapi.Resource):
    group, version = GROUP, VERSION
    printer_columns = (   # as the CRDs in charts/training-operator/crds/ declare them
        {"name": "State", "type": "string", "jsonPath": ".status.conditions[-1:].type", "priority": 0},
        {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp", "priority": 0},
    )

    def __init__(self, engine: Engine, flavour: Flavour):
        self.engine = engine
        self.flavour = flavour
        self.kind, self.plural = flavour.kind, flavour.plural

    def list(self, namespace):
        return [job_object(record) for record in self.engine.store.jobs(self.kind, namespace)]

    def get(self, namespace, name):
        return job_object(self._record(namespace, name))

    def create(self, namespace, body):
        body.pop("status", None)
        job = parse_job(body, self.flavour)
        try:
            record = self.engine.create(job)
        except JobExists:
            raise kubeapi.AlreadyExists(f'{self.plural}.{GROUP} "{job.name}" already exists') from None
        return job_object(record)

    def update(self, namespace, name, body):
        record = self._record(namespace, name)
        wanted = parse_job(_without_status(body), self.flavour)
        if wanted.manifest["spec"] != record.manifest["spec"]:
            raise kubeapi.Invalid(f'{self.kind}.{GROUP} "{name}" is invalid: spec: Forbidden: the spec of a '
                                  "training job cannot change once it is created",
                                  ["spec: Forbidden: cannot be changed"])
        metadata = body.get("metadata") or {}
        return job_object(self.engine.update_metadata(record, metadata.get("labels"), metadata.get("annotations")))

    def delete(self, namespace, name):
        self.engine.delete(self._record(namespace, name))

    def _record(self, namespace: str, name: str) -> JobRecord:
        record = self.engine.store.get(self.kind, namespace, name)
        if record is None:
            raise kubeapi.NotFound(f'{self.plural}.{GROUP} "{name}" not found')
        return record


def _without_status(body: dict) -> dict:
    return {key: value for key, value in body.items() if key != "status"}


def training_resources(engine: Engine) -> list[kubeapi.Resource]:
    return [TrainingJobs(engine, flavour) for flavour in FLAVOURS.values()]
