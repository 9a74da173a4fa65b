"""JSON merge patch (RFC 7386) and JSON patch (RFC 6902): the patch types the API server takes for
custom resources. Strategic merge patch is refused as a real server refuses it for them."""

from __future__ import annotations

import copy
from typing import Any

from mlplatform.kubeapi.errors import BadRequest, UnsupportedMediaType

MERGE_PATCH = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"


def apply_patch(content_type: str, target: dict, patch: Any) -> dict:
    media = (content_type or "").split(";")[0].strip().lower()
    if media in (MERGE_PATCH, "application/json"):
        if not isinstance(patch, dict):
            raise BadRequest("a merge patch must be a JSON object")
        return merge_patch(target, patch)
    if media == JSON_PATCH:
        return json_patch(target, patch)
    if media == STRATEGIC_MERGE_PATCH:
        raise UnsupportedMediaType(
            "strategic merge patch is not supported for custom resources; use a merge patch or a JSON patch"
        )
    raise UnsupportedMediaType(f"the body of a PATCH must be {MERGE_PATCH} or {JSON_PATCH}, not {media!r}")


def merge_patch(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def json_patch(target: dict, operations: Any) -> dict:
    if not isinstance(operations, list):
        raise BadRequest("a JSON patch must be a list of operations")
    document = copy.deepcopy(target)
    for index, operation in enumerate(operations):
        if not isinstance(operation, dict) or operation.get("op") not in ("add", "replace", "remove", "test"):
            raise BadRequest(f"JSON patch operation {index}: op must be add, replace, remove or test")
        parent, key = _locate(document, operation.get("path"), index)
        op = operation["op"]
        if op == "test":
            if _read(parent, key, index) != operation.get("value"):
                raise BadRequest(f"JSON patch operation {index}: test failed at {operation['path']}")
        elif op == "remove":
            _read(parent, key, index)
            del parent[key]
        elif isinstance(parent, list) and op == "add":
            parent.insert(len(parent) if key == "-" else key, operation.get("value"))
        else:
            if op == "replace":
                _read(parent, key, index)
            parent[key] = operation.get("value")
    return document


def _locate(document: dict, path: Any, index: int):
    if not isinstance(path, str) or not path.startswith("/"):
        raise BadRequest(f"JSON patch operation {index}: path must be a JSON pointer such as /spec/maxTrialCount")
    tokens = [token.replace("~1", "/").replace("~0", "~") for token in path[1:].split("/")]
    node = document
    for token in tokens[:-1]:
        node = _read(node, _key(node, token, index), index)
    return node, _key(node, tokens[-1], index)


def _key(node: Any, token: str, index: int):
    if isinstance(node, list):
        if token == "-":
            return token
        if not token.isdigit():
            raise BadRequest(f"JSON patch operation {index}: {token!r} is not a list index")
        return int(token)
    if not isinstance(node, dict):
        raise BadRequest(f"JSON patch operation {index}: the path goes through a value that is not an object")
    return token


def _read(node: Any, key, index: int):
    try:
        return node[key]
    except (KeyError, IndexError, TypeError):
        raise BadRequest(f"JSON patch operation {index}: nothing at {key!r}") from None
