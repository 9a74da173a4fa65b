"""The FastAPI side: one dependency per router answers 401 without an accepted bearer token and 403 when
the user may not act on the resource in the request's namespace."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from mlplatform.auth.access import Resource, User

_METHOD_VERBS = {"POST": "create", "PUT": "update", "PATCH": "update", "DELETE": "delete"}


class AuthFailed(Exception):
    """401 (who are you?) or 403 (not you, not here); the services turn it into their error body."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def bearer_token(request: Request) -> str:
    scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthFailed(401, "no bearer token: send Authorization: Bearer <token> (kfp.Client(existing_token=...))")
    return token.strip()


def verb_for(request: Request) -> str:
    """get or list for reads (list when the path names no object), else by method; a POST to an existing
    object (`/runs/{id}:terminate`) is an update. A {namespace} in the path names no object
    (`/apis/<group>/<version>/namespaces/{namespace}/<plural>` is a collection)."""
    names_object = any(key != "namespace" for key in request.path_params)
    if request.method == "GET":
        return "get" if names_object else "list"
    if request.method == "POST" and names_object:
        return "update"
    return _METHOD_VERBS.get(request.method, "get")


def query_namespace(request: Request) -> str:
    return request.query_params.get("namespace") or ""


async def authenticate(auth, request: Request) -> User:
    """The request's user by its bearer token (401 when not accepted), also left in `request.state.user`."""
    user = await run_in_threadpool(auth.authenticate, bearer_token(request))
    if user is None:
        raise AuthFailed(401, "the bearer token was not accepted (TokenReview)")
    request.state.user = user
    return user


def require(auth, resource: Resource, namespace_of: Callable[[Request], str] = query_namespace,
            default_namespace: str = "default"):
    """A dependency: authenticate the request's token and authorize its verb on `resource` in its namespace.
    The user is left in `request.state.user` for the route (namespace ownership, filtered lists)."""

    async def check(request: Request) -> User:
        user = await authenticate(auth, request)
        namespace = namespace_of(request) or default_namespace
        verb = verb_for(request)
        if not await run_in_threadpool(auth.allowed, user, verb, resource, namespace):
            raise AuthFailed(403, f"{user.username} may not {verb} {resource.plural}.{resource.group} "
                                  f"in namespace {namespace}")
        return user

    return check
