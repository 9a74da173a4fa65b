"""Experiments, Trials and Suggestions (`kubeflow.org/v1beta1`) as Kubernetes resources: the tuning
service's model seen through mlplatform.kubeapi, so Katib's SDK and kubectl reach it unchanged.

Experiments are created, read, patched (the counts, as Katib allows) and deleted with their trials.
Trials and Suggestions are read-only: the service makes them. Names are unique per namespace; every
object carries the namespace of its Experiment, as it would in a cluster.
"""

from __future__ import annotations

import copy

from mlplatform import kubeapi
from mlplatform.tuning import engine as tuning_engine
from mlplatform.tuning.spec import API_VERSION, COUNT_FIELDS, SpecError, experiment_key, parse_experiment
from mlplatform.tuning.status import experiment_object, timestamp, trial_object
from mlplatform.tuning.store import ExperimentExists

GROUP, VERSION = API_VERSION.split("/")


def _column(name: str, kind: str, json_path: str, priority: int = 0) -> dict:
    """A printer column for `kubectl get`, as the CRD in charts/tuning-service/crds/ declares it."""
    return {"name": name, "type": kind, "jsonPath": json_path, "priority": priority}


_AGE = _column("Age", "date", ".metadata.creationTimestamp")


class _TuningResource(kubeapi.Resource):
    group, version = GROUP, VERSION

    def __init__(self, engine: tuning_engine.Engine):
        self.engine = engine

    def _experiment(self, namespace: str, name: str, what: str = "experiments"):
        return self._stored(experiment_key(namespace, name), f'{what}.{GROUP} "{name}" not found')

    def _stored(self, key: str, missing: str):
        try:
            return self.engine.experiment(key)
        except tuning_engine.NotFound:
            raise kubeapi.NotFound(missing) from None

    def _experiments(self, namespace: str | None):
        for record in self.engine.store.experiments():
            try:
                _, experiment = self.engine.experiment(record.name)
            except (tuning_engine.NotFound, SpecError):
                continue
            if namespace is None or experiment.namespace == namespace:
                yield record, experiment


class Experiments(_TuningResource):
    kind, plural = "Experiment", "experiments"
    printer_columns = (_column("Type", "string", ".status.conditions[-1:].type"),
                       _column("Status", "string", ".status.conditions[-1:].status"),
                       _column("Trials", "integer", ".status.trials"),
                       _column("Best", "string", ".status.currentOptimalTrial.bestTrialName", priority=1), _AGE)

    def list(self, namespace):
        return [
            experiment_object(record, experiment, self.engine.store.trials(record.name))
            for record, experiment in self._experiments(namespace)
        ]

    def get(self, namespace, name):
        record, experiment = self._experiment(namespace, name)
        return experiment_object(record, experiment, self.engine.store.trials(record.name))

    def create(self, namespace, body):
        try:
            experiment = parse_experiment(body)
            problem = self.engine.backend_available(experiment)
            if problem:
                raise SpecError([problem])
            self.engine.create(experiment)
        except SpecError as error:
            raise kubeapi.BadRequest(str(error), error.problems) from None
        except ExperimentExists:
            raise kubeapi.AlreadyExists(f'experiments.{GROUP} "{experiment.name}" already exists') from None
        return self.get(namespace, experiment.name)

    def update(self, namespace, name, body):
        record, _ = self._experiment(namespace, name)
        wanted, current = _defaulted(body), record.manifest["spec"]
        changed = sorted(key for key in {*wanted, *current} if wanted.get(key) != current.get(key))
        fixed = [key for key in changed if key not in COUNT_FIELDS]
        if fixed:
            raise kubeapi.Invalid(
                f"only spec.{', spec.'.join(COUNT_FIELDS)} can be changed on an existing experiment",
                [f"spec.{key}: cannot be changed" for key in fixed],
            )
        if changed:
            try:
                self.engine.patch(record.name, {key: wanted.get(key) for key in changed})
            except SpecError as error:
                raise kubeapi.Invalid(str(error), error.problems) from None
        return self.get(namespace, name)

    def delete(self, namespace, name):
        record, _ = self._experiment(namespace, name)
        try:
            self.engine.delete(record.name)
        except tuning_engine.NotFound:
            raise kubeapi.NotFound(f'experiments.{GROUP} "{name}" not found') from None


def _defaulted(body: dict) -> dict:
    """The spec with Katib's defaults filled in, as it is stored: `kubectl apply` of the same file again
    (a merge patch that replaces lists such as spec.parameters) then changes nothing."""
    try:
        return parse_experiment(copy.deepcopy(body)).manifest["spec"]
    except SpecError:
        return body.get("spec") or {}


class Trials(_TuningResource):
    kind, plural = "Trial", "trials"
    printer_columns = (_column("Type", "string", ".status.conditions[-1:].type"),
                       _column("Status", "string", ".status.conditions[-1:].status"), _AGE)

    def list(self, namespace):
        return [
            self._trial(record, experiment, trial)
            for record, experiment in self._experiments(namespace)
            for trial in self.engine.store.trials(record.name)
        ]

    def get(self, namespace, name):
        trial = self.engine.store.trial(name)
        if trial is None:
            raise kubeapi.NotFound(f'trials.{GROUP} "{name}" not found')
        record, experiment = self._stored(trial.experiment, f'trials.{GROUP} "{name}" not found')
        if experiment.namespace != namespace:
            raise kubeapi.NotFound(f'trials.{GROUP} "{name}" not found')
        return self._trial(record, experiment, trial)

    @staticmethod
    def _trial(record, experiment, trial) -> dict:
        item = trial_object(trial, experiment)
        item["metadata"]["ownerReferences"] = [_owner(record, experiment)]
        return item


class Suggestions(_TuningResource):
    """Katib's Suggestion: one per Experiment, named after it, listing what the algorithm suggested."""

    kind, plural = "Suggestion", "suggestions"
    printer_columns = (_column("Requested", "integer", ".spec.requests"),
                       _column("Assigned", "integer", ".status.suggestionCount"), _AGE)

    def list(self, namespace):
        return [self._suggestion(record, experiment) for record, experiment in self._experiments(namespace)]

    def get(self, namespace, name):
        return self._suggestion(*self._experiment(namespace, name, "suggestions"))

    def _suggestion(self, record, experiment) -> dict:
        trials = self.engine.store.trials(record.name)
        spec = experiment.manifest["spec"]
        return {
            "apiVersion": API_VERSION,
            "kind": "Suggestion",
            "metadata": {
                "name": experiment.name,
                "namespace": experiment.namespace,
                "uid": f"{record.uid}-suggestion",
                "creationTimestamp": timestamp(record.created_at),
                "ownerReferences": [_owner(record, experiment)],
            },
            "spec": {
                "algorithm": spec["algorithm"],
                "earlyStopping": spec.get("earlyStopping"),
                "requests": len(trials),
                "resumePolicy": experiment.resume_policy,
            },
            "status": {
                "suggestionCount": len(trials),
                "suggestions": [
                    {"name": trial.name, "parameterAssignments": trial.assignments} for trial in trials
                ],
                "conditions": [{"type": "Running", "status": str(not record.phase.finished),
                                "reason": "SuggestionRunning", "message": "Suggestion is running"}],
            },
        }


def _owner(record, experiment) -> dict:
    return {
        "apiVersion": API_VERSION,
        "kind": "Experiment",
        "name": experiment.name,
        "uid": record.uid,
        "controller": True,
        "blockOwnerDeletion": True,
    }


def tuning_resources(engine: tuning_engine.Engine) -> list[kubeapi.Resource]:
    return [Experiments(engine), Trials(engine), Suggestions(engine)]
