"""Multi-user mode for the pipeline controller (issue 14; `mlp serve pipelines --auth-mode token|kubernetes`),
as multi-user Kubeflow Pipelines does it.

Every /apis/v2beta1 request carries a bearer token (401 otherwise) and is authorized by a
SubjectAccessReview on KFP's resource (`runs`, `experiments`, `pipelines` in pipelines.kubeflow.org) in the
object's namespace, with mlplatform.auth's verb (get/list/create/update/delete); 403 otherwise.

    experiments     their own namespace; a create names it in the body
    runs, recurring runs
                    their experiment's namespace (a create names experiment_id)
    pipelines       their namespace, or shared (namespace ""): any authenticated user reads a shared
                    pipeline; writing one needs the grant cluster-wide (a ClusterRoleBinding)
    lists           ?namespace= (or, for runs, ?experiment_id=) is required, as KFP requires it; pipelines
                    without it list the shared ones

/apis/v2beta1/healthz, /healthz, /readyz and /metrics stay open.
"""

from __future__ import annotations

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from mlplatform.auth import PIPELINE_EXPERIMENTS, PIPELINES, AuthFailed, Resource, User, authenticate
from mlplatform.auth import verb_for as platform_verb
from mlplatform.inputs import InputRejected, load_json
from mlplatform.pipelines.errors import InvalidInput
from mlplatform.pipelines.store import Store

SHARED = ""


class PipelineAccess:
    def __init__(self, auth, store: Store):
        self.auth, self.store = auth, store

    def dependencies(self, resource: Resource) -> list:
        """For one router: `APIRouter(dependencies=access.dependencies(PIPELINE_RUNS))`."""

        async def guard(request: Request) -> User:
            return await self.guard(request, resource)

        return [Depends(guard)]

    async def guard(self, request: Request, resource: Resource) -> User:
        user = await authenticate(self.auth, request)
        body = await _json_body(request)
        namespace = await run_in_threadpool(self.namespace_of, request, resource, body)
        verb = verb_for(request)
        if not await run_in_threadpool(self.allowed, user, verb, resource, namespace):
            where = f"namespace {namespace}" if namespace else "every namespace (a shared pipeline)"
            raise AuthFailed(403, f"{user.username} may not {verb} {resource.plural}.{resource.group} in {where}")
        return user

    def allowed(self, user: User, verb: str, resource: Resource, namespace: str) -> bool:
        if namespace == SHARED and resource == PIPELINES and verb in ("get", "list"):
            return True   # shared pipelines: every authenticated user reads them
        return self.auth.allowed(user, verb, resource, namespace)

    def namespace_of(self, request: Request, resource: Resource, body: dict) -> str:
        """The namespace the request acts in: its object's, else the one it names."""
        params, query = request.path_params, request.query_params
        if resource == PIPELINES:
            return self._pipeline_namespace(params.get("pipeline_id") or query.get("pipelineid"), query, body)
        if resource == PIPELINE_EXPERIMENTS:
            if "experiment_id" in params:
                return self.store.get_experiment(params["experiment_id"]).namespace
            return _required(query.get("namespace") or body.get("namespace"), request)
        return self._run_namespace(request, body)

    def _run_namespace(self, request: Request, body: dict) -> str:
        params, query = request.path_params, request.query_params
        if "run_id" in params:
            return self.store.get_run(params["run_id"]).namespace
        if "recurring_run_id" in params:
            return self.store.get_recurring_run(params["recurring_run_id"]).namespace
        experiment_id = body.get("experiment_id") or query.get("experiment_id")
        if experiment_id:
            return self.store.get_experiment(experiment_id).namespace
        if request.method == "POST":
            raise InvalidInput("in multi-user mode a run needs experiment_id: it runs in its experiment's namespace")
        return _required(query.get("namespace"), request)

    def _pipeline_namespace(self, pipeline_id: str | None, query, body: dict) -> str:
        if pipeline_id:
            return self.store.get_pipeline(pipeline_id).namespace
        return query.get("namespace") or body.get("namespace") or (body.get("pipeline") or {}).get("namespace") or SHARED


def verb_for(request: Request) -> str:
    """mlplatform.auth's verb; adding a version to a pipeline is a create, as in KFP."""
    if request.method == "POST" and request.url.path.endswith(("/versions", "/upload_version")):
        return "create"
    return platform_verb(request)


def _required(namespace: str | None, request: Request) -> str:
    if not namespace:
        what = "a list" if request.method == "GET" else "a create"
        raise InvalidInput(f"in multi-user mode {what} must name a namespace (?namespace=, kfp.Client(...).list_*("
                           "namespace=...)); an experiment names it in its body")
    return namespace


async def _json_body(request: Request) -> dict:
    """A JSON body's fields (BodyLimit has already bounded it); {} for others. A body that does not parse
    is left to the route's own validation."""
    if request.method != "POST" or "json" not in request.headers.get("content-type", ""):
        return {}
    try:
        document = load_json(await request.body())
    except (InputRejected, ValueError):
        return {}
    return document if isinstance(document, dict) else {}


def add_auth_errors(app: FastAPI, error_body) -> None:
    """401 and 403 in the API's error body (google.rpc.Status: UNAUTHENTICATED, PERMISSION_DENIED)."""

    @app.exception_handler(AuthFailed)
    async def refused(_request: Request, error: AuthFailed):
        return JSONResponse(error_body(str(error), 16 if error.status == 401 else 7), status_code=error.status)
