"""Label and field selectors as the API server reads them (equality and existence forms, `in`/`notin`)."""

from __future__ import annotations

import re

from mlplatform.kubeapi.errors import BadRequest

_SET = re.compile(r"^\s*([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)\s*$")
_EQUALITY = re.compile(r"^\s*([\w./-]+)\s*(==|=|!=)\s*([\w./-]*)\s*$")
_EXISTS = re.compile(r"^\s*(!?)([\w./-]+)\s*$")


def _requirements(selector: str) -> list[str]:
    """Split on commas outside parentheses."""
    parts, depth, current = [], 0, ""
    for char in selector:
        depth += char == "("
        depth -= char == ")"
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    return [part for part in [*parts, current] if part.strip()]


def matcher(selector: str | None, what: str = "labelSelector"):
    """A function labels -> bool for `selector`; BadRequest names a selector it cannot read."""
    tests = []
    for requirement in _requirements(selector or ""):
        if match := _SET.match(requirement):
            key, operator, values = match.group(1), match.group(2), {v.strip() for v in match.group(3).split(",")}
            tests.append(lambda labels, k=key, o=operator, v=values: (labels.get(k) in v) == (o == "in"))
        elif match := _EQUALITY.match(requirement):
            key, operator, value = match.groups()
            tests.append(lambda labels, k=key, o=operator, v=value: (labels.get(k) == v) == (o != "!="))
        elif match := _EXISTS.match(requirement):
            negated, key = match.groups()
            tests.append(lambda labels, k=key, n=negated: (k in labels) != bool(n))
        else:
            raise BadRequest(f"{what}: cannot read {requirement.strip()!r}")
    return lambda labels: all(test(labels or {}) for test in tests)


def field_values(item: dict) -> dict[str, str]:
    """The fields a field selector may name for custom resources: metadata.name and metadata.namespace."""
    metadata = item.get("metadata") or {}
    return {"metadata.name": metadata.get("name", ""), "metadata.namespace": metadata.get("namespace", "")}
