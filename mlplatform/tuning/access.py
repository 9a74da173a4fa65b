"""Multi-user mode for the tuning service (issue 14; `mlp serve tuning --auth-mode token|kubernetes`).

Every request to /api/v1/experiments... and to the kubeflow.org/v1beta1 paths carries a bearer token
(401 otherwise) and is authorized by a SubjectAccessReview for Katib's `experiments.kubeflow.org` in the
object's namespace with the request's verb (403 otherwise), through mlplatform.auth's `require`:

    namespace   the path's {namespace}; else ?namespace=; else the namespace of the one experiment of that
                name (404 when none has it); else, for a create, the Experiment's metadata.namespace;
                else "default"
    verb        mlplatform.auth.verb_for: get/list for reads, create/update/delete by method

So an object in a namespace the user may not access answers 403 (as multi-user KFP and the Kubernetes API
do: authorization comes before the lookup); a name that exists nowhere answers 404.

A list across namespaces (GET /api/v1/experiments, GET /apis/kubeflow.org/v1beta1/experiments) only
authenticates; its items are filtered to the namespaces where the user may `list`.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from mlplatform import inputs
from mlplatform.auth import KATIB_EXPERIMENTS, AuthFailed, authenticate, require
from mlplatform.kubeapi.errors import refusal
from mlplatform.tuning.engine import Conflict, Engine, NotFound
from mlplatform.tuning.spec import SpecError, parse_experiment


class TuningAccess:
    def __init__(self, auth, engine: Engine):
        self.auth = auth
        self.engine = engine
        self._check = require(auth, KATIB_EXPERIMENTS, namespace_of=lambda request: request.state.namespace)

    @property
    def dependencies(self) -> list:
        """For the guarded routes: `APIRouter(dependencies=access.dependencies)` or `add_api_route(...)`."""
        return [Depends(self.guard)]

    async def guard(self, request: Request) -> None:
        if _is_list_across_namespaces(request):
            await self.authenticate(request)
            return
        namespace = await self._namespace(request)
        if namespace is None:   # the name exists nowhere: 404 to any authenticated user, as the route would answer
            await self.authenticate(request)
            raise NotFound(f"experiment {request.path_params['name']} not found")
        request.state.namespace = namespace
        await self._check(request)

    async def authenticate(self, request: Request):
        return await authenticate(self.auth, request)

    def visible(self, request: Request) -> Callable[[str], bool]:
        """Whether the request's user may list a namespace (answers kept for the request)."""
        user, answers = getattr(request.state, "user", None), {}

        def may_list(namespace: str) -> bool:
            if user is None:
                return False
            if namespace not in answers:
                answers[namespace] = self.auth.allowed(user, "list", KATIB_EXPERIMENTS, namespace)
            return answers[namespace]

        return may_list

    async def _namespace(self, request: Request) -> str | None:
        params = request.path_params
        if params.get("namespace") or request.query_params.get("namespace"):
            return params.get("namespace") or request.query_params["namespace"]
        if "name" in params:
            return await run_in_threadpool(self._namespace_of_name, params["name"])
        if request.method == "POST":
            return await self._namespace_of_body(request)
        return ""

    def _namespace_of_name(self, name: str) -> str | None:
        """The namespace of the one experiment of that name; None when there is none; "" ("default": the route
        then answers 409 to a user allowed there) when several namespaces have one."""
        try:
            return self.engine.resolve(name).split(".", 1)[0]
        except NotFound:
            return None
        except Conflict:
            return ""

    async def _namespace_of_body(self, request: Request) -> str:
        try:
            document = await inputs.parse_off_loop(inputs.load_document, await request.body(), what="the body")
            return parse_experiment(document).namespace
        except (inputs.InputRejected, SpecError, ValueError, TypeError, KeyError, AttributeError):
            return ""   # the route refuses the body with its own 4xx, once the user is authorized


def _is_list_across_namespaces(request: Request) -> bool:
    return (request.method == "GET" and not request.path_params
            and not request.query_params.get("namespace"))


def add_auth_error_handler(app: FastAPI) -> None:
    """401/403 as the tuning API's error body, or as a Kubernetes Status on the /apis paths."""

    @app.exception_handler(AuthFailed)
    async def refused(request: Request, error: AuthFailed):
        if request.url.path.startswith("/apis/"):
            failure = refusal(error.status, str(error))
            return JSONResponse(failure.status(), status_code=failure.code)
        return JSONResponse({"error": str(error), "problems": [str(error)]}, status_code=error.status)
