"""Comparing two sets of Kubernetes objects: the release as it is and as an upgrade would make it."""

from __future__ import annotations

import difflib
import hashlib
from dataclasses import dataclass

import yaml

HIDDEN = "(hidden)"


@dataclass(frozen=True, order=True)
class ObjectKey:
    kind: str
    namespace: str
    name: str
    group: str = ""

    def __str__(self) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {where}{self.name}"


def object_key(obj: dict, default_namespace: str = "") -> ObjectKey:
    group = obj.get("apiVersion", "").rpartition("/")[0]
    metadata = obj.get("metadata") or {}
    return ObjectKey(obj.get("kind", "?"), metadata.get("namespace") or default_namespace, metadata.get("name", "?"),
                     group)


def index(objects: list[dict], default_namespace: str = "") -> dict[ObjectKey, dict]:
    return {object_key(obj, default_namespace): obj for obj in objects}


def hide_secret_data(obj: dict) -> dict:
    """A Secret with every value replaced by a digest marker: the diff shows which keys change, never values."""
    if obj.get("kind") != "Secret":
        return obj
    hidden = dict(obj)
    for field in ("data", "stringData"):
        if isinstance(obj.get(field), dict):
            hidden[field] = {key: f"{HIDDEN} sha256:{hashlib.sha256(str(value).encode()).hexdigest()[:8]}"
                             for key, value in obj[field].items()}
    return hidden


def _text(obj: dict | None) -> list[str]:
    if obj is None:
        return []
    return yaml.safe_dump(hide_secret_data(obj), sort_keys=True, default_flow_style=False).splitlines(keepends=True)


@dataclass
class ObjectChange:
    key: ObjectKey
    change: str          # added | removed | changed
    diff: str


def diff_objects(current: list[dict], proposed: list[dict], namespace: str = "", context_lines: int = 3) -> list[ObjectChange]:
    """Per object, a unified diff of its YAML; unchanged objects are left out."""
    before, after = index(current, namespace), index(proposed, namespace)
    changes = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        old_text, new_text = _text(old), _text(new)
        if old_text == new_text:
            continue
        change = "added" if old is None else "removed" if new is None else "changed"
        diff = "".join(difflib.unified_diff(old_text, new_text, fromfile=f"current: {key}", tofile=f"proposed: {key}",
                                            n=context_lines))
        changes.append(ObjectChange(key, change, diff))
    return changes


def get_path(obj: dict, path: str):
    """`spec.selector` -> obj["spec"]["selector"], or None."""
    value = obj
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value
