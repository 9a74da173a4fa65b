"""The tuning service's HTTP API (FastAPI).

    POST   /api/v1/experiments                         a Katib Experiment (YAML or JSON) or the plain form
    GET    /api/v1/experiments                         ExperimentList
    GET    /api/v1/experiments/{name}                  the Experiment with its Katib status
    PATCH  /api/v1/experiments/{name}                  {"spec": {"parallelTrialCount": 4, ...}}, or the fields
    DELETE /api/v1/experiments/{name}
    GET    /api/v1/experiments/{name}/trials           TrialList
    GET    /api/v1/experiments/{name}/trials/{trial}   one Trial
    GET    /api/v1/experiments/{name}/trials/{trial}/logs  its output (text): live, or kept after it ended
    POST   /api/v1/trials/{trial}/metrics              {"metrics": {"accuracy": 0.93}}: the Push collector
                                                       (multi-user mode: the trial's token, trial_tokens.py)

Errors are `{"error": "<one line>", "problems": [...]}`: 400 for bad input (every problem listed),
404 for unknown names, 409 for conflicts (a taken name, pushing to a finished trial).
"""

from __future__ import annotations

import math
import time

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.concurrency import run_in_threadpool

from mlplatform import inputs
from mlplatform.openapi import answer_validation_with_400, errors, request_body
from mlplatform.tuning import bodies
from mlplatform.tuning.collectors import MetricLog
from mlplatform.tuning.engine import Conflict, Engine, NotFound
from mlplatform.tuning.spec import API_VERSION, COUNT_FIELDS, SpecError, load_document, parse_experiment
from mlplatform.tuning.status import experiment_object, timestamp, trial_object
from mlplatform.tuning.store import ExperimentExists
from mlplatform.tuning.trial_tokens import check_trial_token

PREFIX = "/api/v1"


BODY_TYPES = ("application/json", "application/yaml")


def add_routes(app: FastAPI, engine: Engine, access=None) -> None:
    """`access` (multi-user mode, mlplatform.tuning.access): guards the /experiments paths and filters the list."""
    _add_error_handlers(app)
    answer_validation_with_400(app)
    router = APIRouter(dependencies=access.dependencies if access else [])
    _add_experiment_routes(router, engine, access)
    app.include_router(router)

    @app.post(f"{PREFIX}/trials/{{trial}}/metrics", responses=errors(400, 401, 404, 409, 413),
              openapi_extra=request_body(bodies.METRICS, *BODY_TYPES))
    async def push_metrics(trial: str, request: Request):
        if access:
            await run_in_threadpool(check_trial_token, request, engine.store, trial)
        logs = _metric_logs(await _document(request))
        await run_in_threadpool(engine.push_metrics, trial, logs)
        return {"trial": trial, "accepted": len(logs)}


def _add_experiment_routes(app: APIRouter, engine: Engine, access) -> None:
    @app.post(f"{PREFIX}/experiments", status_code=201, responses=errors(400, 409, 413),
              openapi_extra=request_body(bodies.EXPERIMENT, *BODY_TYPES, description="a Katib Experiment"))
    async def create_experiment(request: Request):
        document = await _document(request)
        return await run_in_threadpool(_create, engine, document)

    @app.get(f"{PREFIX}/experiments")
    def list_experiments(request: Request, namespace: str | None = None):
        visible = access.visible(request) if access else (lambda _namespace: True)
        items = [_experiment_view(engine, record.name) for record in engine.store.experiments()
                 if _in_namespace(record.name, namespace, visible)]
        return {
            "apiVersion": API_VERSION,
            "kind": "ExperimentList",
            "items": [item for item in items if item],
        }

    @app.get(f"{PREFIX}/experiments/{{name}}", responses=errors(404, 409))
    def get_experiment(name: str, namespace: str | None = None):
        return _experiment_view(engine, engine.resolve(name, namespace), required=True)

    @app.patch(f"{PREFIX}/experiments/{{name}}", responses=errors(400, 404, 409, 413),
               openapi_extra=request_body(bodies.COUNT_CHANGES, *BODY_TYPES))
    async def patch_experiment(name: str, request: Request, namespace: str | None = None):
        changes = _count_changes(await _document(request))
        key = await run_in_threadpool(engine.resolve, name, namespace)
        await run_in_threadpool(engine.patch, key, changes)
        return await run_in_threadpool(_experiment_view, engine, key, True)

    @app.delete(f"{PREFIX}/experiments/{{name}}", responses=errors(404, 409))
    def delete_experiment(name: str, namespace: str | None = None):
        engine.delete(engine.resolve(name, namespace))
        return {"kind": "Status", "status": "Success", "details": {"name": name, "kind": "experiments"}}

    @app.get(f"{PREFIX}/experiments/{{name}}/trials", responses=errors(404, 409))
    def list_trials(name: str, namespace: str | None = None):
        key = engine.resolve(name, namespace)
        _, experiment = engine.experiment(key)
        items = [trial_object(trial, experiment) for trial in engine.store.trials(key)]
        return {"apiVersion": API_VERSION, "kind": "TrialList", "items": items}

    @app.get(f"{PREFIX}/experiments/{{name}}/trials/{{trial}}", responses=errors(404, 409))
    def get_trial(name: str, trial: str, namespace: str | None = None):
        key = engine.resolve(name, namespace)
        _, experiment = engine.experiment(key)
        return trial_object(_trial(engine, key, trial), experiment)

    @app.get(f"{PREFIX}/experiments/{{name}}/trials/{{trial}}/logs", response_class=PlainTextResponse,
             responses=errors(404, 409))
    def get_trial_logs(name: str, trial: str, namespace: str | None = None):
        key = engine.resolve(name, namespace)
        return PlainTextResponse(engine.trial_output(_trial(engine, key, trial)))

async def _document(request: Request):
    """The body as JSON or one YAML document, parsed off the event loop within mlplatform.inputs' limits."""
    return await inputs.parse_off_loop(_bounded_document, await request.body())


def _bounded_document(body: bytes):
    try:
        return inputs.load_document(body, what="the body")
    except inputs.InputRejected as error:
        if "not valid YAML" in str(error) or "one YAML document" in str(error):
            return load_document(body)  # within the limits, merely unreadable: spec's own words for it
        raise


def _in_namespace(key: str, namespace: str | None, visible) -> bool:
    space = key.split(".", 1)[0]
    return space == namespace if namespace else visible(space)


def _trial(engine: Engine, key: str, name: str):
    record = engine.store.trial(name)
    if record is None or record.experiment != key:
        raise NotFound(f"trial {name} not found in experiment {key.split('.', 1)[-1]}")
    return record


def _create(engine: Engine, document) -> dict:
    experiment = parse_experiment(document)
    problem = engine.backend_available(experiment)
    if problem:
        raise SpecError([problem])
    engine.create(experiment)
    return _experiment_view(engine, experiment.key, required=True)


def _experiment_view(engine: Engine, name: str, required: bool = False) -> dict | None:
    try:
        record, experiment = engine.experiment(name)
    except NotFound:
        if required:
            raise
        return None
    return experiment_object(record, experiment, engine.store.trials(name))


def _count_changes(document) -> dict:
    """The counts a PATCH changes: `{"spec": {...}}` or the fields alone; anything else is refused."""
    if not isinstance(document, dict):
        raise SpecError(['the PATCH body must be a mapping such as {"spec": {"parallelTrialCount": 2}}'])
    changes = (
        document["spec"] if set(document) == {"spec"} and isinstance(document["spec"], dict) else document
    )
    problems = [
        f"spec.{key}: cannot be changed on an existing experiment (PATCH takes {', '.join(COUNT_FIELDS)})"
        for key in changes
        if key not in COUNT_FIELDS
    ]
    if not changes:
        problems.append(f"nothing to change (PATCH takes {', '.join(COUNT_FIELDS)})")
    if problems:
        raise SpecError(problems)
    return changes


def _metric_logs(document) -> list[MetricLog]:
    metrics = document.get("metrics") if isinstance(document, dict) else None
    if not isinstance(metrics, dict) or not metrics:
        raise SpecError(['the body must be {"metrics": {"<name>": <number>, ...}}'])
    problems = [
        f"metrics.{name}: {value!r} is not a finite number"
        for name, value in metrics.items()
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value)
    ]
    if problems:
        raise SpecError(problems)
    moment = document.get("timestamp") or timestamp(time.time())
    return [MetricLog(str(name), repr(float(value)), moment) for name, value in metrics.items()]


def _add_error_handlers(app: FastAPI) -> None:
    def answer(status: int, error: Exception, problems: list[str] | None = None):
        return JSONResponse({"error": str(error), "problems": problems or [str(error)]}, status_code=status)

    @app.exception_handler(SpecError)
    async def bad_spec(_request, error: SpecError):
        return answer(400, error, error.problems)

    @app.exception_handler(inputs.InputRejected)
    async def rejected(_request, error: inputs.InputRejected):
        return answer(error.status, error)

    @app.exception_handler(NotFound)
    async def not_found(_request, error: NotFound):
        return answer(404, error)

    @app.exception_handler(ExperimentExists)
    async def exists(_request, error: ExperimentExists):
        namespace, name = str(error).split(".", 1)
        return answer(409, Exception(
            f"experiment {name} already exists in namespace {namespace}; delete it first or choose another name"
        ))

    @app.exception_handler(Conflict)
    async def conflict(_request, error: Conflict):
        return answer(409, error)
