"""Server-side printing: `kubectl get` asks for a meta.k8s.io Table (`Accept: application/json;as=Table;...`)
and prints its columns. A Resource's `printer_columns` are its CRD's additionalPrinterColumns
(name, type, jsonPath, priority); the Table has Name first, as a real API server builds it for a CRD.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request

_STEP = re.compile(r"^([^\[\]]*)(?:\[(-?\d*)(:?)(-?\d*)\])?$")


def wants_table(request: Request) -> bool:
    return any("as=Table" in part and "g=meta.k8s.io" in part for part in request.headers.get("accept", "").split(","))


def table(columns: tuple[dict, ...], items: list[dict], resource_version: str = "") -> dict:
    definitions = [{"name": "Name", "type": "string", "format": "name", "priority": 0,
                    "description": "Name must be unique within a namespace."}]
    definitions += [{"name": c["name"], "type": c["type"], "format": "", "priority": c.get("priority", 0),
                     "description": c.get("description", "")} for c in columns]
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {"resourceVersion": resource_version},
            "columnDefinitions": definitions,
            "rows": [{"cells": [item["metadata"].get("name")] + [_cell(item, c) for c in columns],
                      "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                                 "metadata": item["metadata"]}} for item in items]}


def _cell(item: dict, column: dict) -> Any:
    value = json_path(item, column["jsonPath"])
    if column["type"] == "date":
        return _age(value) if isinstance(value, str) else "<unknown>"
    return value


def json_path(node: Any, path: str) -> Any:
    """The subset of JSONPath printer columns use: `.a.b`, `.a[0]`, `.a[-1:]`; None when a step is missing."""
    for step in path.strip(".").split("."):
        key, start, colon, end = _STEP.match(step).groups()
        node = node.get(key) if isinstance(node, dict) and key else node
        if start or colon:
            if not isinstance(node, list):
                return None
            picked = node[int(start or 0):int(end) if end else None] if colon else node[int(start):][:1]
            node = picked[0] if picked else None
        if node is None:
            return None
    return node


def _age(stamp: str) -> str:
    """kubectl's short durations: 42s, 5m, 3h, 2d."""
    try:
        seconds = (datetime.now(UTC) - datetime.fromisoformat(stamp)).total_seconds()
    except ValueError:
        return "<invalid>"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= 2 * size:
            return f"{int(seconds // size)}{unit}"
    return f"{max(int(seconds), 0)}s"
