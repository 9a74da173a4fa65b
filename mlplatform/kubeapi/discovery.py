"""Discovery: what kubectl reads before it touches a resource.

    GET /version                    the server's version
    GET /api                        APIVersions: the core versions served ("v1" when pods are)
    GET /api/v1                     APIResourceList of the core resources served
    GET /apis                       APIGroupList: every group and its versions
    GET /apis/<group>/<version>     APIResourceList: kinds, verbs, namespaced, singularName, shortNames
    GET /openapi/v3[/<path>]        OpenAPI v3: the index of group versions, and per group version the PATCH
                                    of each resource (its patch types, `fieldValidation`), all `kubectl apply`
                                    reads: it then leaves validation to the server and sends a merge patch

Each app has one `Discovery` (`discovery_of(app)`), filled by `add_resource_routes` from the `Resource`
descriptions and by other doors (local pods) with `add`. kubectl asks first for the aggregated
document (`as=APIGroupDiscoveryList`); these are plain JSON, which tells it to read the legacy ones.
A pass-through (local mode's one server) adds its upstream with `add_upstream`: /api, /apis and
/openapi/v3 then list the union of both servers' groups (the upstream's while it answers), and the
upstream's OpenAPI documents are fetched from it.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from mlplatform import __version__
from mlplatform.kubeapi.errors import NotFound
from mlplatform.kubeapi.patch import JSON_PATCH, MERGE_PATCH
from mlplatform.kubeapi.resource import Resource

# The upstream's discovery document at a path ("/apis"), with the request's headers; None when it does not answer.
Upstream = Callable[[str, Request], Awaitable[dict | None]]
KUBERNETES_VERSION = ("1", "31")
_PATCH_PARAMETERS = ("dryRun", "fieldManager", "fieldValidation", "force")
_VERBS = {"create": ("create",), "update": ("update", "patch"), "delete": ("delete",)}


def resource_entries(resource: Resource) -> list[dict]:
    """The APIResourceList entries of a Resource: its verbs are the methods it implements."""
    verbs = ["get", "list", "watch"] + [verb for method, names in _VERBS.items()
                                        if _implements(resource, method) for verb in names]
    entries = [{"name": resource.plural, "singularName": resource.kind.lower(), "namespaced": True,
                "kind": resource.kind, "verbs": sorted(verbs), "shortNames": list(resource.short_names)}]
    status_verbs = ["get"] + (["patch", "update"] if _implements(resource, "update_status") else [])
    entries.append({"name": f"{resource.plural}/status", "singularName": "", "namespaced": True,
                    "kind": resource.kind, "verbs": status_verbs})
    return entries


def _implements(resource: Resource, method: str) -> bool:
    return getattr(type(resource), method) is not getattr(Resource, method)


class Discovery:
    def __init__(self, app: FastAPI, dependencies=None):
        self.app = app
        self.dependencies = dependencies
        self.served: dict[tuple[str, str], list[dict]] = {}
        self.upstreams: list[Upstream] = []

    def add(self, group: str, version: str, entries: list[dict]) -> None:
        """Serve `entries` in group/version ("" is the core group); the first adds its APIResourceList path."""
        if (group, version) not in self.served:
            self.served[(group, version)] = []
            path = f"/apis/{group}/{version}" if group else f"/api/{version}"
            self._get(path, lambda: self._resource_list(group, version))
        self.served[(group, version)].extend(entries)

    def add_upstream(self, upstream: Upstream) -> None:
        self.upstreams.append(upstream)

    def _get(self, path: str, answer: Callable, guarded: bool = True) -> None:
        dependencies = self.dependencies if guarded else None
        self.app.add_api_route(path, answer, methods=["GET"], include_in_schema=False, dependencies=dependencies)

    def _resource_list(self, group: str, version: str) -> dict:
        return {"kind": "APIResourceList", "apiVersion": "v1",
                "groupVersion": f"{group}/{version}" if group else version,
                "resources": self.served[(group, version)]}

    async def core_versions(self, request: Request) -> dict:
        versions = {version for group, version in self.served if not group}
        for document in await self._upstream("/api", request):
            versions.update(document.get("versions") or [])
        return {"kind": "APIVersions", "apiVersion": "v1", "versions": sorted(versions, key=version_priority),
                "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": request.url.netloc}]}

    async def group_list(self, request: Request) -> dict:
        versions: dict[str, set[str]] = {}
        for group, version in self.served:
            if group:
                versions.setdefault(group, set()).add(version)
        for document in await self._upstream("/apis", request):
            for group in document.get("groups") or []:
                versions.setdefault(group["name"], set()).update(v["version"] for v in group.get("versions") or [])
        return {"kind": "APIGroupList", "apiVersion": "v1",
                "groups": [_group(name, sorted(found, key=version_priority)) for name, found in sorted(versions.items())]}

    async def openapi_index(self, request: Request) -> dict:
        paths = {_api_path(group, version): {"serverRelativeURL": f"/openapi/v3/{_api_path(group, version)}"}
                 for group, version in self.served}
        for document in await self._upstream("/openapi/v3", request):
            paths = {**(document.get("paths") or {}), **paths}
        return {"paths": paths}

    async def openapi_document(self, path: str, request: Request):
        for (group, version), entries in self.served.items():
            if path == _api_path(group, version):
                return openapi_document(group, version, entries)
        for document in await self._upstream(f"/openapi/v3/{path}", request):
            return document
        error = NotFound(f"no OpenAPI document for {path}")
        return JSONResponse(error.status(), status_code=error.code)

    async def _upstream(self, path: str, request: Request) -> list[dict]:
        return [document for upstream in self.upstreams if (document := await upstream(path, request))]


def _api_path(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


def openapi_document(group: str, version: str, entries: list[dict]) -> dict:
    """The PATCH operation of each resource that has one, as a real API server describes it for a CRD."""
    base = f"/{_api_path(group, version)}/namespaces/{{namespace}}"
    paths = {f"{base}/{entry['name']}/{{name}}": {"patch": {
        "operationId": f"patch{entry['kind']}",
        "x-kubernetes-group-version-kind": {"group": group, "version": version, "kind": entry["kind"]},
        "parameters": [{"name": name, "in": "query", "schema": {"type": "string"}} for name in _PATCH_PARAMETERS],
        "requestBody": {"content": {media: {"schema": {"type": "object"}} for media in (MERGE_PATCH, JSON_PATCH)}},
        "responses": {"200": {"description": "OK"}},
    }} for entry in entries if "patch" in entry["verbs"]}
    return {"openapi": "3.0.0", "info": {"title": "mlplatform", "version": __version__}, "paths": paths}


def _group(name: str, versions: list[str]) -> dict:
    entries = [{"groupVersion": f"{name}/{version}", "version": version} for version in versions]
    return {"name": name, "versions": entries, "preferredVersion": entries[0]}


def version_priority(version: str) -> tuple:
    """Kubernetes' order: GA before beta before alpha, higher numbers first (v1, v1beta2, v1beta1, v1alpha1)."""
    match = re.fullmatch(r"v(\d+)(?:(alpha|beta)(\d+))?", version)
    if not match:
        return (3, version)
    major, stage, minor = match.groups()
    return ({None: 0, "beta": 1, "alpha": 2}[stage], -int(major), -int(minor or 0))


def server_version() -> dict:
    major, minor = KUBERNETES_VERSION
    return {"major": major, "minor": minor, "gitVersion": f"v{major}.{minor}.0+mlplatform.{__version__}",
            "platform": "linux/amd64", "compiler": "gc", "goVersion": "", "gitCommit": "", "gitTreeState": "",
            "buildDate": ""}


def discovery_of(app: FastAPI, dependencies=None) -> Discovery:
    """The app's Discovery; the first call adds /api and /apis (guarded by `dependencies`), /version and
    /openapi/v3."""
    existing = getattr(app.state, "kube_discovery", None)
    if existing is not None:
        return existing
    discovery = app.state.kube_discovery = Discovery(app, dependencies)
    discovery._get("/api", discovery.core_versions)
    discovery._get("/apis", discovery.group_list)
    for path, answer in (("/version", server_version), ("/openapi/v3", discovery.openapi_index),
                         ("/openapi/v3/{path:path}", discovery.openapi_document)):
        discovery._get(path, answer, guarded=False)   # the API's shape only, no one's objects
    return discovery
