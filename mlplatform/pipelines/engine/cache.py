"""Cache keys: an executor task whose key matches an earlier successful one reuses its outputs.

The key covers what determines the outputs: the component's interface, the container (image, command,
args, env), the input parameter values and the input artifacts' URIs. A `cacheKey` set at submission
(kfp.Client(..., cache_key=...)) replaces the computed key.
"""

from __future__ import annotations

import hashlib
import json


def cache_key(task_spec: dict, component: dict, executor: dict, parameters: dict, artifacts: dict) -> str:
    """The task's key, or "" when caching is off for it."""
    options = task_spec.get("cachingOptions") or {}
    if not options.get("enableCache"):
        return ""
    if options.get("cacheKey"):
        return hashlib.sha256(options["cacheKey"].encode()).hexdigest()
    content = {
        "inputs": component.get("inputDefinitions", {}),
        "outputs": component.get("outputDefinitions", {}),
        "executor": executor,
        "parameters": parameters,
        "artifacts": {name: [item["uri"] for item in items] for name, items in artifacts.items()},
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()
