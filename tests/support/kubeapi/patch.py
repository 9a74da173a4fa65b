"""The patch formats the API server accepts: JSON merge patch, strategic merge patch, JSON patch and
server-side apply.

Strategic merge knows the list merge keys of the built-in types (containers by name, env by name, ports
by containerPort or port, volumeMounts by mountPath, ...) and the directives helm 3's three-way merge
emits: `$patch` (replace, delete, merge), `$setElementOrder/<list>`, `$retainKeys` and
`$deleteFromPrimitiveList/<list>`. Custom resources have no merge keys: their lists are replaced, as
the real server does (it refuses strategic merge for them; the caller checks that).

Server-side apply is a three-way merge without per-field ownership: the fields this field manager
applied last time and no longer applies are removed, then the new configuration is merged in.
"""

from __future__ import annotations

import copy

import jsonpatch

from mlplatform.kubeapi.patch import merge_patch  # noqa: F401 (RFC 7386; store and server call patches.merge_patch)
from tests.support.kubeapi.errors import ApiError, bad_request

# The list fields of built-in types that merge by a key (patchStrategy "merge"), and their keys.
MERGE_KEYS = {
    "containers": "name", "initContainers": "name", "ephemeralContainers": "name", "env": "name",
    "volumes": "name", "volumeMounts": "mountPath", "volumeDevices": "devicePath", "imagePullSecrets": "name",
    "hostAliases": "ip", "conditions": "type", "ownerReferences": "uid", "topologySpreadConstraints": "topologyKey",
    "resourceClaims": "name", "schedulingGates": "name", "claims": "name",
}
# Lists of scalars that merge as sets (patchStrategy "merge" on a primitive list).
SET_LISTS = {"finalizers"}
CONTAINER_LISTS = {"containers", "initContainers", "ephemeralContainers"}
DIRECTIVE = "$patch"
ORDER_PREFIX = "$setElementOrder/"
DELETE_PRIMITIVE_PREFIX = "$deleteFromPrimitiveList/"
RETAIN_KEYS = "$retainKeys"


def list_strategy(path: tuple[str, ...], builtin: bool) -> tuple[str, str | None]:
    """How the list at `path` (field names, no indices) merges: ("merge", key), ("set", None) or ("replace", None)."""
    if not builtin or not path:
        return ("replace", None)
    name = path[-1]
    if name == "ports":   # container ports merge by containerPort, Service ports by port
        return ("merge", "containerPort" if CONTAINER_LISTS & set(path[:-1]) else "port")
    if name in MERGE_KEYS:
        return ("merge", MERGE_KEYS[name])
    if name in SET_LISTS:
        return ("set", None)
    return ("replace", None)


# --- strategic merge patch ----------------------------------------------------------------------------

def strategic_merge(target: dict, patch: dict, builtin: bool = True) -> dict:
    if not isinstance(patch, dict):
        raise bad_request("a strategic merge patch must be a JSON object")
    merged = _merge_map(target or {}, patch, (), builtin)
    return merged if merged is not None else {}


def _clean(value: object, path: tuple[str, ...], builtin: bool) -> object:
    """A new value from a patch, with its directives applied to nothing (i.e. removed)."""
    if isinstance(value, dict):
        merged = _merge_map({}, value, path, builtin)
        return merged if merged is not None else {}
    if isinstance(value, list):
        return _merge_list(None, value, path, builtin)
    return value


def _merge_map(target: dict, patch: dict, path: tuple[str, ...], builtin: bool) -> dict | None:
    directive = patch.get(DIRECTIVE)
    if directive == "delete":
        return None
    if directive == "replace":
        return {key: _clean(value, path + (key,), builtin) for key, value in patch.items()
                if not key.startswith("$") and value is not None}
    if directive not in (None, "merge"):
        raise bad_request(f"unknown patch directive {DIRECTIVE}: {directive!r}")
    result = copy.deepcopy(target)
    for key, values in patch.items():
        if key.startswith(DELETE_PRIMITIVE_PREFIX):
            field = key[len(DELETE_PRIMITIVE_PREFIX):]
            if isinstance(result.get(field), list):
                result[field] = [item for item in result[field] if item not in values]
    for key, value in patch.items():
        if key.startswith("$"):
            continue
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict):
            merged = _merge_map(result[key] if isinstance(result.get(key), dict) else {}, value, path + (key,), builtin)
            if merged is None:
                result.pop(key, None)
            else:
                result[key] = merged
        elif isinstance(value, list):
            result[key] = _merge_list(result.get(key), value, path + (key,), builtin)
        else:
            result[key] = value
    for key, order in patch.items():
        if key.startswith(ORDER_PREFIX) and isinstance(result.get(key[len(ORDER_PREFIX):]), list):
            field = key[len(ORDER_PREFIX):]
            result[field] = _ordered(result[field], order, list_strategy(path + (field,), builtin)[1])
    if isinstance(patch.get(RETAIN_KEYS), list):
        keep = set(patch[RETAIN_KEYS])
        result = {key: value for key, value in result.items() if key in keep}
    return result


def _merge_list(target: list | None, patch: list, path: tuple[str, ...], builtin: bool) -> list:
    strategy, key = list_strategy(path, builtin)
    elements = [item for item in patch if not (isinstance(item, dict) and set(item) == {DIRECTIVE})]
    replace_all = len(elements) != len(patch) and any(item.get(DIRECTIVE) == "replace" for item in patch
                                                       if isinstance(item, dict) and set(item) == {DIRECTIVE})
    if strategy == "replace" or target is None or replace_all:
        return [_clean(item, path, builtin) for item in elements
                if not (isinstance(item, dict) and item.get(DIRECTIVE) == "delete")]
    if strategy == "set":
        return list(target) + [item for item in elements if item not in target]
    result = copy.deepcopy(target)
    for item in elements:
        if not isinstance(item, dict) or key not in item:
            raise bad_request(f"{'.'.join(path)}: every element of a strategic merge list needs its merge key {key!r}")
        index = next((i for i, existing in enumerate(result) if isinstance(existing, dict)
                      and existing.get(key) == item[key]), None)
        if item.get(DIRECTIVE) == "delete":
            if index is not None:
                result.pop(index)
        elif index is None:
            result.append(_clean(item, path, builtin))
        else:
            merged = _merge_map(result[index], item, path, builtin)
            if merged is None:
                result.pop(index)
            else:
                result[index] = merged
    return result


def _ordered(items: list, order: list, key: str | None) -> list:
    """`items` in the order `$setElementOrder` gives; elements it does not name keep their place at the end."""
    def identity(item):
        return item.get(key) if key and isinstance(item, dict) else item

    wanted = [identity(entry) for entry in order]
    named = sorted((item for item in items if identity(item) in wanted), key=lambda item: wanted.index(identity(item)))
    return named + [item for item in items if identity(item) not in wanted]


# --- JSON patch (RFC 6902) ------------------------------------------------------------------------------

def json_patch(target: dict, operations: list) -> dict:
    if not isinstance(operations, list):
        raise bad_request("a JSON patch must be a JSON array of operations")
    try:
        return jsonpatch.apply_patch(target, operations)
    except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as error:
        raise ApiError(422, "Invalid", f"the JSON patch does not apply: {error}") from None


# --- server-side apply ------------------------------------------------------------------------------------

def apply(live: dict, applied: dict, last_applied: dict | None, builtin: bool) -> dict:
    """`live` after a field manager applies `applied`, having applied `last_applied` before."""
    pruned = _prune(live, last_applied or {}, applied, (), builtin)
    return strategic_merge(pruned, applied, builtin)


def _prune(live: object, old: object, new: object, path: tuple[str, ...], builtin: bool) -> object:
    """Remove from `live` what `old` set and `new` no longer does."""
    if isinstance(live, dict) and isinstance(old, dict):
        new = new if isinstance(new, dict) else {}
        result = dict(live)
        for key, old_value in old.items():
            if key not in new:
                result.pop(key, None)
            elif key in result:
                result[key] = _prune(result[key], old_value, new[key], path + (key,), builtin)
        return result
    if isinstance(live, list) and isinstance(old, list):
        strategy, key = list_strategy(path, builtin)
        new = new if isinstance(new, list) else []
        if strategy == "set":
            return [item for item in live if item in new or item not in old]
        if strategy == "merge":
            gone = {item.get(key) for item in old if isinstance(item, dict)} - \
                   {item.get(key) for item in new if isinstance(item, dict)}
            kept = [item for item in live if not (isinstance(item, dict) and item.get(key) in gone)]
            by_key = {item.get(key): item for item in new if isinstance(item, dict)}
            old_by_key = {item.get(key): item for item in old if isinstance(item, dict)}
            return [_prune(item, old_by_key[item.get(key)], by_key[item.get(key)], path, builtin)
                    if isinstance(item, dict) and item.get(key) in old_by_key and item.get(key) in by_key else item
                    for item in kept]
    return live
