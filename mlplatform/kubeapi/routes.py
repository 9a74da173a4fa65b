"""The REST door: Kubernetes-shaped paths for each `Resource`, errors as `Status` objects."""

from __future__ import annotations

import secrets
import string
from collections.abc import Callable

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from mlplatform import inputs
from mlplatform.kubeapi.discovery import discovery_of, resource_entries
from mlplatform.kubeapi.errors import BadRequest, Conflict, KubeError
from mlplatform.kubeapi.patch import apply_patch
from mlplatform.kubeapi.resource import Resource
from mlplatform.kubeapi.selectors import field_values, matcher
from mlplatform.kubeapi.table import table, wants_table
from mlplatform.kubeapi.versions import ResourceVersions
from mlplatform.kubeapi.watch import DEFAULT_TIMEOUT_SECONDS, watch_events

_SUFFIX = string.ascii_lowercase + string.digits


class _Rejected(KubeError):
    """mlplatform.inputs refused the body (too large, too deep, unreadable)."""

    reason = "BadRequest"

    def __init__(self, error: inputs.InputRejected):
        super().__init__(str(error))
        self.code = error.status
        if error.status == 413:
            self.reason = "RequestEntityTooLarge"


def add_resource_routes(app: FastAPI, resources: list[Resource], versions: ResourceVersions | None = None,
                        access=None) -> None:
    """`access` (multi-user mode, e.g. mlplatform.tuning.access.TuningAccess): its `dependencies` guard
    every path, and `visible(request)` filters lists across namespaces to the namespaces it accepts."""
    versions = versions or ResourceVersions()
    for resource in resources:
        _Routes(resource, versions, access).add_to(app)
    discovery = discovery_of(app, access.dependencies if access else None)
    for resource in resources:
        discovery.add(resource.group, resource.version, resource_entries(resource))


class _Routes:
    def __init__(self, resource: Resource, versions: ResourceVersions, access=None):
        self.resource = resource
        self.versions = versions
        self.access = access

    def add_to(self, app: FastAPI) -> None:
        r = self.resource
        base = f"/apis/{r.group}/{r.version}"
        collection = f"{base}/namespaces/{{namespace}}/{r.plural}"
        item = f"{collection}/{{name}}"
        options = {"include_in_schema": False, "dependencies": self.access.dependencies if self.access else None}
        app.add_api_route(f"{base}/{r.plural}", self.list_all, methods=["GET"], **options)
        app.add_api_route(collection, self.list, methods=["GET"], **options)
        app.add_api_route(collection, self.create, methods=["POST"], **options)
        app.add_api_route(item, self.get, methods=["GET"], **options)
        app.add_api_route(item, self.replace, methods=["PUT"], **options)
        app.add_api_route(item, self.patch, methods=["PATCH"], **options)
        app.add_api_route(item, self.delete, methods=["DELETE"], **options)
        app.add_api_route(f"{item}/status", self.get, methods=["GET"], **options)
        app.add_api_route(f"{item}/status", self.replace_status, methods=["PUT"], **options)
        app.add_api_route(f"{item}/status", self.patch_status, methods=["PATCH"], **options)

    # --- the verbs ---------------------------------------------------------------------------------

    async def list_all(self, request: Request):
        return await self._list(request, None)

    async def list(self, namespace: str, request: Request):
        return await self._list(request, namespace)

    async def create(self, namespace: str, request: Request):
        return await self._answer(self._create, namespace, await self._body(request), status=201)

    async def get(self, namespace: str, name: str, request: Request):
        return await self._answer(self._printed(request, self._stamped), self.resource.get, namespace, name, name=name)

    async def replace(self, namespace: str, name: str, request: Request):
        body = await self._body(request)
        return await self._answer(self._replace, namespace, name, body, self.resource.update, name=name)

    async def replace_status(self, namespace: str, name: str, request: Request):
        body = await self._body(request)
        return await self._answer(self._replace, namespace, name, body, self.resource.update_status, name=name)

    async def patch(self, namespace: str, name: str, request: Request):
        body = await self._body(request)
        kind = request.headers.get("content-type", "")
        return await self._answer(self._patch, namespace, name, kind, body, self.resource.update, name=name)

    async def patch_status(self, namespace: str, name: str, request: Request):
        body = await self._body(request)
        kind = request.headers.get("content-type", "")
        return await self._answer(self._patch, namespace, name, kind, body, self.resource.update_status, name=name)

    async def delete(self, namespace: str, name: str):
        return await self._answer(self._delete, namespace, name, name=name)

    # --- doing them ----------------------------------------------------------------------------------

    async def _list(self, request: Request, namespace: str | None):
        query = request.query_params
        try:
            labels = matcher(query.get("labelSelector"))
            fields = self._scoped(request, namespace, matcher(query.get("fieldSelector"), "fieldSelector"))
            if (query.get("watch") or "").lower() in ("true", "1"):
                return self._watch(namespace, labels, fields, query)
        except KubeError as error:
            return self._error(error)
        return await self._answer(self._printed(request, self._listing), namespace, labels, fields)

    def _printed(self, request: Request, method: Callable) -> Callable:
        """`method`'s object or list, or as `kubectl get` asks for it: a Table of its printer columns."""
        if not wants_table(request):
            return method

        def printed(*args) -> dict:
            answer = method(*args)
            items = answer.get("items", [answer])
            return table(self.resource.printer_columns, items, answer["metadata"].get("resourceVersion", ""))

        return printed

    def _scoped(self, request: Request, namespace: str | None, fields: Callable) -> Callable:
        """Across namespaces in multi-user mode: only the namespaces the user may list."""
        if namespace is not None or self.access is None:
            return fields
        visible = self.access.visible(request)
        return lambda values: fields(values) and visible(values["metadata.namespace"])

    def _filtered(self, namespace, labels: Callable, fields: Callable) -> list[dict]:
        return [
            item
            for item in self.resource.list(namespace)
            if labels((item.get("metadata") or {}).get("labels")) and fields(field_values(item))
        ]

    def _listing(self, namespace, labels, fields) -> dict:
        items = self._filtered(namespace, labels, fields)
        for item in items:
            self.versions.stamp(self.resource.plural, item)
        return {
            "apiVersion": self.resource.api_version,
            "kind": self.resource.list_kind,
            "metadata": {"resourceVersion": str(self.versions.current)},
            "items": items,
        }

    def _watch(self, namespace, labels, fields, query) -> StreamingResponse:
        since = _integer(query.get("resourceVersion"), "resourceVersion")
        timeout = _integer(query.get("timeoutSeconds"), "timeoutSeconds")
        events = watch_events(
            self.resource.plural,
            lambda: self._filtered(namespace, labels, fields),
            self.versions,
            since or None,
            timeout=float(timeout) if timeout else DEFAULT_TIMEOUT_SECONDS,
        )
        return StreamingResponse(events, media_type="application/json")

    def _create(self, namespace: str, body) -> dict:
        metadata = self._checked(body, namespace)
        if not metadata.get("name"):
            prefix = metadata.get("generateName")
            if not prefix:
                raise BadRequest("metadata.name or metadata.generateName is required", ["metadata.name: Required value"])
            metadata["name"] = prefix + "".join(secrets.choice(_SUFFIX) for _ in range(5))
        return self._stamped(self.resource.create, namespace, body)

    def _replace(self, namespace: str, name: str, body, update: Callable) -> dict:
        metadata = self._checked(body, namespace)
        if metadata.get("name", name) != name:
            raise BadRequest(f"the name in the body ({metadata.get('name')}) does not match the URL ({name})")
        current = self._stamped(self.resource.get, namespace, name)
        wanted = metadata.get("resourceVersion")
        if wanted and wanted != current["metadata"]["resourceVersion"]:
            raise Conflict(
                f'Operation cannot be fulfilled on {self.resource.plural} "{name}": the object has been modified; '
                "please apply your changes to the latest version and try again"
            )
        return self._stamped(update, namespace, name, body)

    def _patch(self, namespace: str, name: str, content_type: str, patch, update: Callable) -> dict:
        current = self._stamped(self.resource.get, namespace, name)
        patched = apply_patch(content_type, current, patch)
        if patched.get("metadata", {}).get("resourceVersion") == current["metadata"]["resourceVersion"]:
            patched["metadata"].pop("resourceVersion")  # a patch is checked only against a version it names
        return self._replace(namespace, name, patched, update)

    def _delete(self, namespace: str, name: str) -> dict:
        self.resource.delete(namespace, name)
        return {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Success",
            "details": {"name": name, "group": self.resource.group, "kind": self.resource.plural},
        }

    def _checked(self, body, namespace: str) -> dict:
        """The body's metadata, after checking apiVersion, kind and namespace against the URL."""
        r = self.resource
        if not isinstance(body, dict):
            raise BadRequest(f"the body must be a {r.kind} object")
        if (body.get("apiVersion"), body.get("kind")) != (r.api_version, r.kind):
            raise BadRequest(
                f"the body must be apiVersion {r.api_version}, kind {r.kind}; "
                f"got {body.get('apiVersion')}, {body.get('kind')}"
            )
        metadata = body.setdefault("metadata", {})
        if not isinstance(metadata, dict):
            raise BadRequest("metadata must be an object")
        if metadata.setdefault("namespace", namespace) != namespace:
            raise BadRequest(
                "the namespace of the provided object does not match the namespace sent on the request"
            )
        return metadata

    def _stamped(self, method: Callable, *args) -> dict:
        item = method(*args)
        self.versions.stamp(self.resource.plural, item)
        return item

    async def _body(self, request: Request):
        try:
            return await inputs.parse_off_loop(inputs.load_document, await request.body(), what="the body")
        except inputs.InputRejected as error:
            return _Rejected(error)

    async def _answer(self, method: Callable, *args, status: int = 200, name: str | None = None):
        rejected = next((arg for arg in args if isinstance(arg, _Rejected)), None)
        if rejected is not None:
            return self._error(rejected, name)
        try:
            return JSONResponse(await run_in_threadpool(method, *args), status_code=status)
        except KubeError as error:
            return self._error(error, name)

    def _error(self, error: KubeError, name: str | None = None) -> JSONResponse:
        """kubectl names the object from the details: `The experiments.kubeflow.org "e" is invalid: ...`."""
        status = error.status(self.resource.plural, name)
        status["details"]["group"] = self.resource.group
        return JSONResponse(status, status_code=error.code)


def _integer(value: str | None, what: str) -> int | None:
    if value in (None, ""):
        return None
    if not value.isdigit():
        raise BadRequest(f"{what}: {value!r} is not a non-negative integer")
    return int(value)
