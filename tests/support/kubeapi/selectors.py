"""Label selectors (equality- and set-based) and field selectors, as list and watch take them."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from tests.support.kubeapi.errors import bad_request

Matcher = Callable[[dict], bool]

_SET_REQUIREMENT = re.compile(r"^\s*(\S+?)\s+(in|notin)\s*\((.*)\)\s*$")
_EQUALITY_REQUIREMENT = re.compile(r"^\s*([^!=\s]+)\s*(==|=|!=)\s*(\S*)\s*$")
_EXISTS_REQUIREMENT = re.compile(r"^\s*(!?)\s*([^!=\s(),]+)\s*$")


@dataclass(frozen=True)
class Requirement:
    key: str
    operator: str       # in, notin, exists, !exists (equality is `in` / `notin` with one value)
    values: frozenset[str] = frozenset()

    def matches(self, labels: dict) -> bool:
        if self.operator == "exists":
            return self.key in labels
        if self.operator == "!exists":
            return self.key not in labels
        if self.operator == "in":
            return self.key in labels and labels[self.key] in self.values
        return labels.get(self.key) not in self.values   # notin: a missing key matches too


def _split_top_level(text: str) -> list[str]:
    """Split on commas that are not inside parentheses."""
    parts, depth, current = [], 0, ""
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return [part for part in parts if part.strip()]


def parse_label_selector(text: str | None) -> list[Requirement]:
    requirements = []
    for part in _split_top_level(text or ""):
        if match := _SET_REQUIREMENT.match(part):
            key, operator, values = match.groups()
            requirements.append(Requirement(key, operator, frozenset(v.strip() for v in values.split(",") if v.strip())))
        elif match := _EQUALITY_REQUIREMENT.match(part):
            key, operator, value = match.groups()
            requirements.append(Requirement(key, "notin" if operator == "!=" else "in", frozenset([value])))
        elif match := _EXISTS_REQUIREMENT.match(part):
            negated, key = match.groups()
            requirements.append(Requirement(key, "!exists" if negated else "exists"))
        else:
            raise bad_request(f"unable to parse requirement: {part.strip()!r} in label selector {text!r}")
    return requirements


def label_matcher(text: str | None) -> Matcher:
    requirements = parse_label_selector(text)
    return lambda obj: all(r.matches((obj.get("metadata") or {}).get("labels") or {}) for r in requirements)


def field_value(obj: dict, path: str) -> str:
    """The string value of a dotted field path (`metadata.name`, `status.phase`); "" when absent."""
    value: object = obj
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def field_matcher(text: str | None) -> Matcher:
    terms = []
    for part in (text or "").split(","):
        if not part.strip():
            continue
        match = re.match(r"^\s*([A-Za-z0-9_.]+)\s*(==|=|!=)\s*(.*?)\s*$", part)
        if not match:
            raise bad_request(f"invalid field selector: {part.strip()!r}")
        terms.append(match.groups())
    return lambda obj: all((field_value(obj, path) == value) == (operator != "!=") for path, operator, value in terms)


def selector_matcher(label_selector: str | None, field_selector: str | None) -> Matcher:
    by_labels, by_fields = label_matcher(label_selector), field_matcher(field_selector)
    return lambda obj: by_labels(obj) and by_fields(obj)


def match_labels_selector(selector: dict | None) -> str:
    """A LabelSelector object ({matchLabels, matchExpressions}) as selector text."""
    selector = selector or {}
    parts = [f"{key}={value}" for key, value in sorted((selector.get("matchLabels") or {}).items())]
    for expression in selector.get("matchExpressions") or []:
        key, operator = expression["key"], expression["operator"]
        values = ",".join(expression.get("values") or [])
        parts.append({"In": f"{key} in ({values})", "NotIn": f"{key} notin ({values})",
                      "Exists": key, "DoesNotExist": f"!{key}"}[operator])
    return ",".join(parts)
