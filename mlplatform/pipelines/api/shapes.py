"""Stored records as KFP v2beta1 JSON (the shapes of kfp_server_api's models, snake_case keys)."""

from __future__ import annotations

from datetime import UTC, datetime

from mlplatform.pipelines.store import Experiment, Pipeline, PipelineVersion, RecurringRun, Run, Task


def timestamp(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def status(state: str, at: float | None, error: str = "") -> dict:
    entry = {"update_time": timestamp(at), "state": state}
    if error:
        entry["error"] = {"code": 2, "message": error}
    return entry


def experiment(record: Experiment, last_run_created_at: float | None = None) -> dict:
    return {
        "experiment_id": record.id,
        "display_name": record.display_name,
        "description": record.description,
        "created_at": timestamp(record.created_at),
        "namespace": record.namespace,
        "storage_state": record.storage_state,
        "last_run_created_at": timestamp(last_run_created_at),
    }


def pipeline(record: Pipeline) -> dict:
    return {
        "pipeline_id": record.id,
        "name": record.name,
        "display_name": record.display_name,
        "description": record.description,
        "created_at": timestamp(record.created_at),
        "namespace": record.namespace,
    }


def version(record: PipelineVersion, with_spec: bool = True) -> dict:
    shape = {
        "pipeline_id": record.pipeline_id,
        "pipeline_version_id": record.id,
        "name": record.name,
        "display_name": record.display_name,
        "description": record.description,
        "created_at": timestamp(record.created_at),
        "code_source_url": record.code_source_url,
    }
    if with_spec:
        shape["pipeline_spec"] = _with_platform(record.pipeline_spec, record.platform_spec)
    return shape


def run(record: Run, tasks: list[Task] | None = None) -> dict:
    shape = {
        "experiment_id": record.experiment_id,
        "run_id": record.id,
        "recurring_run_id": record.recurring_run_id,
        "display_name": record.display_name,
        "description": record.description,
        "storage_state": record.storage_state,
        "pipeline_version_id": record.pipeline_version_id,
        "pipeline_spec": None
        if record.pipeline_version_id
        else _with_platform(record.pipeline_spec, record.platform_spec),
        "runtime_config": {"parameters": record.parameters, "pipeline_root": record.pipeline_root},
        "service_account": record.service_account,
        "created_at": timestamp(record.created_at),
        "scheduled_at": timestamp(record.scheduled_at),
        "finished_at": timestamp(record.finished_at),
        "state": record.state,
        "error": {"code": 2, "message": record.error} if record.error else None,
        "state_history": [
            status(item["state"], item.get("at"), item.get("error", ""))
            for item in record.state_history or []
        ],
        "pipeline_outputs": record.outputs or {},  # our extension: the root DAG's outputs
    }
    if record.pipeline_version_id:
        shape["pipeline_version_reference"] = {
            "pipeline_id": record.pipeline_id,
            "pipeline_version_id": record.pipeline_version_id,
        }
    if tasks is not None:
        shape["run_details"] = {"task_details": [task(item) for item in tasks]}
    return shape


def task(record: Task) -> dict:
    return {
        "run_id": record.run_id,
        "task_id": record.id,
        "display_name": record.name,
        "create_time": timestamp(record.created_at),
        "start_time": timestamp(record.started_at),
        "end_time": timestamp(record.finished_at),
        "state": record.state,
        # A task served from the cache points at the execution whose outputs it reused.
        "execution_id": record.cached_from or record.id,
        "executor_detail": {"main_job": record.runner_name},
        "pod_name": record.runner_name,
        "parent_task_id": record.parent_id,
        "error": {"code": 2, "message": record.error}
        if record.error and record.state != "SUCCEEDED"
        else None,
        "inputs": _artifact_lists((record.inputs or {}).get("artifacts", {})),
        "outputs": _artifact_lists((record.outputs or {}).get("artifacts", {})),
        "state_history": [
            status(item["state"], item.get("at"), item.get("error", ""))
            for item in record.state_history or []
        ],
        # Our extensions: what a plain v2beta1 client ignores.
        "path": record.path,
        "kind": record.kind,
        "attempts": record.attempt,
        "cached": bool(record.cached_from),
        "parameters": {
            "inputs": (record.inputs or {}).get("parameters", {}),
            "outputs": (record.outputs or {}).get("parameters", {}),
        },
    }


def _artifact_lists(artifacts: dict) -> dict:
    return {name: {"artifact_ids": [item["uri"] for item in items]} for name, items in artifacts.items()}


def _with_platform(spec: dict, platform: dict | None) -> dict:
    return {"pipeline_spec": spec, "platform_spec": platform} if platform else spec


def recurring_run(record: RecurringRun) -> dict:
    kind, schedule = next(iter(record.trigger.items()))
    trigger = {key: value for key, value in schedule.items() if key != "anchor"}
    for key in ("start_time", "end_time"):
        trigger[key] = timestamp(trigger.get(key))
    return {
        "recurring_run_id": record.id,
        "display_name": record.display_name,
        "description": record.description,
        "experiment_id": record.experiment_id,
        "namespace": record.namespace,
        "pipeline_version_reference": {
            "pipeline_id": record.pipeline_id,
            "pipeline_version_id": record.pipeline_version_id,
        }
        if record.pipeline_version_id
        else None,
        "pipeline_spec": None
        if record.pipeline_version_id
        else _with_platform(record.pipeline_spec, record.platform_spec),
        "runtime_config": {"parameters": record.parameters, "pipeline_root": record.pipeline_root},
        "service_account": record.service_account,
        "trigger": {kind: trigger},
        "mode": "ENABLE" if record.enabled else "DISABLE",
        "max_concurrency": str(record.max_concurrency),
        "no_catchup": record.no_catchup,
        "status": "ENABLED" if record.enabled else "DISABLED",
        "created_at": timestamp(record.created_at),
        "updated_at": timestamp(record.updated_at),
        "next_fire_at": timestamp(record.next_fire_at),
    }
