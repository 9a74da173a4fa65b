"""Cluster mode's loop, shared by the tuning service and the training operator.

A controller lists its custom objects in the namespaces it watches every `interval` seconds and
reconciles each with its service's engine. Listing (rather than a watch) keeps restarts and missed
events harmless: every pass sees the whole state. Subclasses write `sync`, one pass.
"""

from __future__ import annotations

import logging
import threading

from kubernetes import client

log = logging.getLogger("mlplatform.kubeapi.controller")


def watched_namespaces(value: str | None) -> list[str] | None:
    """`--watch-namespaces`: "a,b" -> ["a", "b"]; "*" -> None (all namespaces)."""
    if value is None or value.strip() == "*":
        return None
    return [name.strip() for name in value.split(",") if name.strip()]


class PollingController:
    """Runs `sync` in a daemon thread every `interval` seconds until `stop`; a failed pass is logged and retried."""

    def __init__(self, api: client.ApiClient, group: str, version: str, namespaces: list[str] | None,
                 interval: float, name: str):
        self.custom = client.CustomObjectsApi(api)
        self.group, self.version = group, version
        self.namespaces = namespaces  # None: every namespace
        self.interval = interval
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()

    def sync(self) -> None:
        raise NotImplementedError

    def _run(self) -> None:
        while not self._stopped.is_set():
            try:
                self.sync()
            except Exception:
                log.exception("%s: a reconcile pass failed; retrying", self._thread.name)
            self._stopped.wait(self.interval)

    def _watches(self, namespace: str | None) -> bool:
        return self.namespaces is None or namespace in self.namespaces

    def _list(self, plural: str) -> list[dict]:
        if self.namespaces is None:
            return self.custom.list_cluster_custom_object(self.group, self.version, plural)["items"]
        items = []
        for namespace in self.namespaces:
            items.extend(self.custom.list_namespaced_custom_object(self.group, self.version, namespace,
                                                                   plural)["items"])
        return items
