"""resourceVersions for objects that live in a service's own model.

The model has no revision counter of its own, so one is kept here: an object's resourceVersion changes
exactly when its content does. Every GET, LIST and the watch loop stamp objects through the same
`ResourceVersions`, so the numbers agree between them and only grow.
"""

from __future__ import annotations

import hashlib
import json
import threading


class ResourceVersions:
    def __init__(self):
        self._lock = threading.Lock()
        self._counter = 0
        self._seen: dict[tuple, tuple[str, int]] = {}

    @property
    def current(self) -> int:
        with self._lock:
            return self._counter

    def stamp(self, plural: str, item: dict) -> int:
        """Set item.metadata.resourceVersion (a new one if the content changed) and return it."""
        metadata = item.setdefault("metadata", {})
        metadata.pop("resourceVersion", None)
        digest = hashlib.sha1(json.dumps(item, sort_keys=True, default=str).encode()).hexdigest()
        key = (plural, metadata.get("namespace"), metadata.get("name"))
        with self._lock:
            seen = self._seen.get(key)
            if seen is None or seen[0] != digest:
                self._counter += 1
                seen = self._seen[key] = (digest, self._counter)
        metadata["resourceVersion"] = str(seen[1])
        return seen[1]

    def forget(self, plural: str, namespace: str, name: str) -> int:
        """The object is gone: its DELETED event gets a version of its own."""
        with self._lock:
            self._seen.pop((plural, namespace, name), None)
            self._counter += 1
            return self._counter
