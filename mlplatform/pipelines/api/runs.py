"""Runs: create (from a pipeline spec or a version reference, with runtime parameters), get with task
details, list, terminate, retry, archive, delete; plus the artifacts of a run (contracts §8), the head of one
artifact's content (read with the controller's own S3 client, so no other component needs S3 credentials for
it) and task logs.
"""

from __future__ import annotations

import os

from fastapi import APIRouter, Depends, Query
from fastapi.responses import PlainTextResponse, Response

from mlplatform.auth import PIPELINE_RUNS
from mlplatform.openapi import errors
from mlplatform.pipelines.api import bodies, shapes
from mlplatform.pipelines.api.common import AUTH_STATUSES, PREFIX, Services, list_query
from mlplatform.pipelines.api.pipelines import validated
from mlplatform.pipelines.artifacts import normalized_root, root_problem
from mlplatform.pipelines.errors import FailedPrecondition, InvalidInput, NotFound
from mlplatform.pipelines.ir.parameters import check_runtime_parameters, split_runtime_artifacts
from mlplatform.pipelines.ir.spec import PipelineIR
from mlplatform.pipelines.store import Run, Task

CONTENT_MAX_BYTES = 256 * 1024   # the most of an artifact's content one request reads (its head)


class ArtifactContent(Response):
    media_type = "application/octet-stream"


def router(services: Services) -> APIRouter:
    api = APIRouter(prefix=f"{PREFIX}/runs", responses=errors(400, 404, 409, 413, *AUTH_STATUSES),
                    dependencies=services.guard(PIPELINE_RUNS))
    store, engine = services.store, services.engine

    @api.post("")
    def create(sent: bodies.Run, experiment_id: str = Query("")):
        body = sent.fields()
        run = new_run(services, body, experiment_id)
        store.add_run(run)
        engine.submit(run.id)
        return shapes.run(run)

    @api.get("")
    def list_(query=Depends(list_query), experiment_id: str = "", namespace: str = ""):
        page = store.list_runs(query, experiment_id, namespace)
        return {
            "runs": [shapes.run(item) for item in page.items],
            "total_size": page.total_size,
            "next_page_token": page.next_page_token,
        }

    @api.get("/{run_id}")
    def get(run_id: str):
        return shapes.run(store.get_run(run_id), store.tasks_of(run_id))

    @api.post("/{run_id}:terminate")
    def terminate(run_id: str):
        engine.terminate(run_id)
        return {}

    @api.post("/{run_id}:retry")
    def retry(run_id: str):
        engine.retry(run_id)
        return {}

    @api.post("/{run_id}:archive")
    def archive(run_id: str):
        store.get_run(run_id)
        store.update_run(run_id, storage_state="ARCHIVED")
        return {}

    @api.post("/{run_id}:unarchive")
    def unarchive(run_id: str):
        store.get_run(run_id)
        store.update_run(run_id, storage_state="AVAILABLE")
        return {}

    @api.delete("/{run_id}")
    def delete(run_id: str):
        store.get_run(run_id)
        engine.delete(run_id)
        return {}

    @api.get("/{run_id}/artifacts")
    def artifacts(run_id: str):
        store.get_run(run_id)
        found = []
        for task in store.tasks_of(run_id):
            if task.kind not in ("executor", "importer") or task.state != "SUCCEEDED":
                continue
            for output_name, items in (task.outputs or {}).get("artifacts", {}).items():
                for item in items:
                    found.append(
                        {
                            "task_name": task.name,
                            "task_id": task.id,
                            "output_name": output_name,
                            "type": item.get("type", {}).get("schemaTitle", ""),
                            "uri": item["uri"],
                            "metadata": item.get("metadata", {}),
                        }
                    )
        return {"artifacts": found}

    @api.get("/{run_id}/tasks/{task_id}/logs", response_class=PlainTextResponse)
    def logs(run_id: str, task_id: str):
        task = store.get_task(run_id, task_id)
        text = task.log or ""
        if task.state == "RUNNING" and task.runner_name:
            text += f"--- attempt {task.attempt} ({task.runner_name}, running) ---\n"
            text += engine.runner.logs(task.runner_name)
        return text

    @api.get("/{run_id}/tasks/{task_id}/artifacts/{output_name}/content", response_class=ArtifactContent,
             responses={200: {"description": "the artifact's first max_bytes bytes",
                              "content": {ArtifactContent.media_type: {"schema": {"type": "string",
                                                                                  "format": "binary"}}}}})
    def artifact_content(run_id: str, task_id: str, output_name: str,
                         max_bytes: int = Query(CONTENT_MAX_BYTES, ge=1, le=CONTENT_MAX_BYTES,
                                                description=f"read at most this many bytes (1 to {CONTENT_MAX_BYTES})")):
        """The head of one output artifact of a task, read from the artifact store (a file, not a directory)."""
        run = store.get_run(run_id)
        uri = output_uri(store.get_task(run_id, task_id), output_name)
        return ArtifactContent(read_artifact(engine.root_of(run), uri, max_bytes))

    return api


def output_uri(task: Task, output_name: str) -> str:
    outputs = (task.outputs or {}).get("artifacts", {})
    if not outputs.get(output_name):
        names = ", ".join(sorted(outputs)) or "none yet"
        raise NotFound(f"task {task.id} ({task.name}) has no output artifact {output_name!r}; its outputs: {names}")
    return outputs[output_name][0]["uri"]


def read_artifact(root, uri: str, max_bytes: int) -> bytes:
    """The head of the file artifact at `uri`, which must be under the run's artifact root."""
    if not root.holds(uri):
        raise FailedPrecondition(f"{uri} is outside the artifact root {root.root}; only artifacts the platform "
                                 "stored there can be read through the API")
    try:
        return root.read_head(uri, max_bytes)
    except IsADirectoryError:
        raise FailedPrecondition(f"{uri} is a directory artifact; only a file artifact's content can be read") from None
    except FileNotFoundError:
        raise NotFound(f"nothing is stored at {uri} in the artifact store") from None


def new_run(services: Services, body: dict, experiment_id: str) -> Run:
    """Check everything a run needs before anything is stored: spec, parameters, experiment."""
    store = services.store
    reference = body.get("pipeline_version_reference") or {}
    version_id = reference.get("pipeline_version_id") or body.get("pipeline_version_id")
    pipeline_id = reference.get("pipeline_id")
    if body.get("pipeline_spec") is not None:
        spec, platform = validated(body["pipeline_spec"])
        version = None
    elif version_id or pipeline_id:
        version = (
            store.get_version(version_id, pipeline_id) if version_id else store.latest_version(pipeline_id)
        )
        spec, platform = version.pipeline_spec, version.platform_spec
    else:
        raise InvalidInput("a run needs pipeline_spec or pipeline_version_reference")
    config = body.get("runtime_config") or {}
    if not isinstance(config.get("parameters") or {}, dict):
        raise InvalidInput("runtime_config.parameters must map parameter names to values")
    definitions = PipelineIR(spec).root.get("inputDefinitions", {})
    given, artifacts = split_runtime_artifacts(definitions, config.get("parameters"))
    parameters = {**check_runtime_parameters(definitions, given), **artifacts}
    experiment_id = body.get("experiment_id") or experiment_id
    experiment = store.get_experiment(experiment_id) if experiment_id else store.default_experiment()
    return Run(
        experiment_id=experiment.id,
        display_name=body.get("display_name") or spec.get("pipelineInfo", {}).get("name", "run"),
        description=body.get("description") or "",
        pipeline_version_id=version.id if version else None,
        pipeline_id=version.pipeline_id if version else None,
        pipeline_spec=spec,
        platform_spec=platform,
        parameters=parameters,
        pipeline_root=checked_pipeline_root(config.get("pipeline_root") or "", services.engine.runner.kind),
        service_account=body.get("service_account") or "",
        state="PENDING",
        state_history=[],
        outputs={},
    )


def checked_pipeline_root(value: str, runner_kind: str) -> str:
    """A run's pipeline_root: s3:// or minio:// (the platform's object store), or an absolute directory."""
    what = f"runtime_config.pipeline_root {value!r}"
    root = normalized_root(value)
    problem = root_problem(root, "runtime_config.pipeline_root") if value else None
    if value and not problem and not root.startswith("s3://"):
        if not os.path.isabs(root):
            problem = f"{what} is a relative path; give an absolute directory or s3://bucket/prefix"
        elif runner_kind == "kubernetes":
            problem = f"{what} is a local directory, which pods cannot see; give s3://bucket/prefix"
    if problem:
        raise InvalidInput(problem)
    return value
