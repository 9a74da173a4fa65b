"""Experiments: create, get, list, archive, unarchive, delete."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from mlplatform.auth import PIPELINE_EXPERIMENTS
from mlplatform.openapi import errors
from mlplatform.pipelines.api import bodies, shapes
from mlplatform.pipelines.api.common import AUTH_STATUSES, PREFIX, Services, list_query
from mlplatform.pipelines.errors import InvalidInput


def router(services: Services) -> APIRouter:
    api = APIRouter(prefix=f"{PREFIX}/experiments", responses=errors(400, 404, 409, 413, *AUTH_STATUSES),
                    dependencies=services.guard(PIPELINE_EXPERIMENTS))
    store = services.store

    def shape(record):
        return shapes.experiment(record, store.last_run_created_at(record.id))

    @api.post("")
    def create(sent: bodies.Experiment):
        body = sent.fields()
        name = (body.get("display_name") or "").strip()
        if not name:
            raise InvalidInput("experiment display_name is required")
        return shape(
            store.create_experiment(name, body.get("description") or "", body.get("namespace") or "")
        )

    @api.get("")
    def list_(query=Depends(list_query), namespace: str = ""):
        page = store.list_experiments(query, namespace)
        return {
            "experiments": [shape(item) for item in page.items],
            "total_size": page.total_size,
            "next_page_token": page.next_page_token,
        }

    @api.get("/{experiment_id}")
    def get(experiment_id: str):
        return shape(store.get_experiment(experiment_id))

    @api.post("/{experiment_id}:archive")
    def archive(experiment_id: str):
        store.set_experiment_storage(experiment_id, "ARCHIVED")
        return {}

    @api.post("/{experiment_id}:unarchive")
    def unarchive(experiment_id: str):
        store.set_experiment_storage(experiment_id, "AVAILABLE")
        return {}

    @api.delete("/{experiment_id}")
    def delete(experiment_id: str):
        store.delete_experiment(experiment_id)
        return {}

    return api
