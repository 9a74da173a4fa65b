"""A minimal OpenAPI v3 description: enough for clients to see that every type's PATCH takes the
`fieldValidation` and `dryRun` query parameters.

kubectl's resource builder (which helm uses) asks this before it validates manifests: when the server
validates fields, it leaves validation to the server instead of downloading the OpenAPI v2 (protobuf)
schema. This server validates what admission.py checks; it does not reject unknown fields.
"""

from __future__ import annotations

import hashlib

from tests.support.kubeapi.resources import ResourceTypes

PATCH_PARAMETERS = [{"name": name, "in": "query", "schema": {"type": "string", "uniqueItems": True}}
                    for name in ("dryRun", "fieldManager", "fieldValidation", "force")]


def _key(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


def root(types: ResourceTypes) -> dict:
    """/openapi/v3: one entry per served group/version."""
    paths = {}
    for group, versions in types.group_versions().items():
        for version in versions:
            key = _key(group, version)
            digest = hashlib.sha256(repr(document(types, key)).encode()).hexdigest()[:16].upper()
            paths[key] = {"serverRelativeURL": f"/openapi/v3/{key}?hash={digest}"}
    return {"paths": paths}


def document(types: ResourceTypes, key: str) -> dict | None:
    """/openapi/v3/<api/v1 | apis/group/version>: the PATCH operation of each type, with its kind."""
    served = [r for r in types.served() if _key(r.group, r.version) == key]
    if not served:
        return None
    paths = {}
    for resource in served:
        scope = "namespaces/{namespace}/" if resource.namespaced else ""
        path = f"/{key}/{scope}{resource.plural}/{{name}}"
        gvk = {"group": resource.group, "version": resource.version, "kind": resource.kind}
        paths[path] = {"patch": {"operationId": f"patch{resource.kind}", "parameters": PATCH_PARAMETERS,
                                 "x-kubernetes-action": "patch", "x-kubernetes-group-version-kind": gvk,
                                 "responses": {"200": {"description": "OK"}}}}
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": "unversioned"}, "paths": paths,
            "components": {"schemas": {}}}
