"""Multi-user mode for the training operator (`mlp serve training --auth-mode token|kubernetes`).

Every request to the kubeflow.org/v1 paths and to the pods paths carries a bearer token (401 otherwise)
and is authorized by a SubjectAccessReview in the path's namespace (403 otherwise): `pytorchjobs` or
`tfjobs` of kubeflow.org, or `pods` / `events` (core) for the replicas, their logs and the jobs' events, with
the request's verb. A list across namespaces only authenticates; its items are filtered to the namespaces the
user may list.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from mlplatform.auth import AuthFailed, authenticate, verb_for
from mlplatform.auth.access import Resource
from mlplatform.kubeapi.errors import refusal


class TrainingAccess:
    def __init__(self, auth):
        self.auth = auth

    @property
    def dependencies(self) -> list:
        return [Depends(self.guard)]

    async def guard(self, request: Request) -> None:
        user = await authenticate(self.auth, request)
        namespace = request.path_params.get("namespace")
        if namespace is None:
            return   # a list across namespaces: filtered by visible()
        resource, verb = _resource(request.url.path), verb_for(request)
        if not await run_in_threadpool(self.auth.allowed, user, verb, resource, namespace):
            raise AuthFailed(403, f"{user.username} may not {verb} {resource.plural}"
                                  f"{'.' + resource.group if resource.group else ''} in namespace {namespace}")

    def visible(self, request: Request) -> Callable[[str], bool]:
        user, resource, answers = request.state.user, _resource(request.url.path), {}

        def may_list(namespace: str) -> bool:
            if namespace not in answers:
                answers[namespace] = self.auth.allowed(user, "list", resource, namespace)
            return answers[namespace]

        return may_list


def _resource(path: str) -> Resource:
    parts = path.strip("/").split("/")
    if parts[0] == "api":   # /api/v1/namespaces/{ns}/pods|events...
        return Resource("", parts[4])
    plural = parts[5] if len(parts) > 5 and parts[3] == "namespaces" else parts[3]
    return Resource(parts[1], plural)


def add_auth_error_handler(app: FastAPI) -> None:
    @app.exception_handler(AuthFailed)
    async def refused(_request: Request, error: AuthFailed):
        failure = refusal(error.status, str(error))
        return JSONResponse(failure.status(), status_code=failure.code)
