"""The object store: every resource the server holds, with the semantics clients rely on.

Objects are kept per (group, plural, namespace, name), version-independent. Every write gets the next
global resourceVersion and appends an event to the log that watches read from. Writes go through the
same steps the real server takes: defaulting, validation, optimistic concurrency, the status
subresource, generation, finalizers, garbage collection of dependents, namespace and CRD deletion.

Reactors (the Job executor, kubelet-lite, CRD registration) are called after each committed change,
under the store's re-entrant lock, and may write to the store themselves.
"""

from __future__ import annotations

import copy
import datetime
import ipaddress
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from tests.support.kubeapi import admission
from tests.support.kubeapi import patch as patches
from tests.support.kubeapi.errors import (
    already_exists,
    bad_request,
    conflict,
    expired,
    invalid,
    not_found,
    unsupported_media_type,
)
from tests.support.kubeapi.resources import ResourceType, ResourceTypes
from tests.support.kubeapi.selectors import Matcher

NAME_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
CRDS = ("apiextensions.k8s.io", "customresourcedefinitions")
NAMESPACE_KEY = ("", "namespaces")
Key = tuple[str, str, str, str]   # group, plural, namespace ("" when cluster-scoped), name


def now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def random_suffix(length: int = 5) -> str:
    return "".join(random.choices(NAME_SUFFIX_ALPHABET, k=length))


@dataclass(frozen=True)
class Event:
    rv: int
    type: str                # ADDED, MODIFIED, DELETED
    key: Key
    obj: dict                # the object after the change (before it, for DELETED)
    old: dict | None         # the object before a MODIFIED


Reactor = Callable[["Store", Event], None]


class Store:
    def __init__(self, types: ResourceTypes):
        self.types = types
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.objects: dict[Key, dict] = {}
        self.events: list[Event] = []
        self.rv = 0
        self.compacted_rv = 0       # watches from a resourceVersion at or below this get 410 Gone
        self.reactors: list[Reactor] = []
        self.applied: dict[tuple[str, str], dict] = {}   # (uid, field manager) -> its last applied config
        self._next_ip = ipaddress.ip_address("10.96.0.10")
        self.closed = False
        for name in NAMESPACES:
            self.create(self.type_of("v1", "Namespace"), "", {"metadata": {"name": name}})

    # --- helpers ---------------------------------------------------------------------------------

    def type_of(self, api_version: str, kind: str) -> ResourceType:
        resource = self.types.by_kind(api_version, kind)
        if resource is None:
            raise bad_request(f"no resource type for {api_version} {kind} is served")
        return resource

    @staticmethod
    def key(resource: ResourceType, namespace: str, name: str) -> Key:
        return (resource.group, resource.plural, namespace if resource.namespaced else "", name)

    @staticmethod
    def present(resource: ResourceType, obj: dict) -> dict:
        """A copy of a stored object as the client sees it in `resource`'s version."""
        shown = copy.deepcopy(obj)
        shown["apiVersion"], shown["kind"] = resource.api_version, resource.kind
        return shown

    def _allocate_ip(self) -> str:
        self._next_ip += 1
        return str(self._next_ip)

    def _commit(self, kind: str, key: Key, obj: dict | None, old: dict | None) -> dict:
        """Record a change under the next resourceVersion, wake watches, run reactors."""
        self.rv += 1
        if kind == "DELETED":
            self.objects.pop(key, None)
            snapshot = copy.deepcopy(old)
        else:
            obj["metadata"]["resourceVersion"] = str(self.rv)
            self.objects[key] = obj
            snapshot = copy.deepcopy(obj)
        snapshot["metadata"]["resourceVersion"] = str(self.rv)
        event = Event(self.rv, kind, key, snapshot, copy.deepcopy(old) if kind == "MODIFIED" else None)
        self.events.append(event)
        self.changed.notify_all()
        for reactor in list(self.reactors):
            reactor(self, event)
        return copy.deepcopy(snapshot)

    def _require_namespace(self, resource: ResourceType, namespace: str) -> None:
        if not resource.namespaced:
            return
        if not namespace:
            raise bad_request(f"{resource.plural} is namespaced: the request needs a namespace")
        if ("", "namespaces", "", namespace) not in self.objects:
            raise not_found(self.type_of("v1", "Namespace"), namespace)

    @staticmethod
    def _check_kind(resource: ResourceType, body: dict) -> None:
        if body.get("kind") and body["kind"] != resource.kind:
            raise bad_request(f"the kind in the data ({body['kind']}) does not match the expected kind "
                              f"({resource.kind}) of {resource.api_version} {resource.plural}")

    # --- reading ---------------------------------------------------------------------------------

    def get(self, resource: ResourceType, namespace: str, name: str) -> dict:
        with self.lock:
            obj = self.objects.get(self.key(resource, namespace, name))
            if obj is None:
                raise not_found(resource, name)
            return self.present(resource, obj)

    def find(self, resource: ResourceType, namespace: str, name: str) -> dict | None:
        with self.lock:
            obj = self.objects.get(self.key(resource, namespace, name))
            return self.present(resource, obj) if obj is not None else None

    def list(self, resource: ResourceType, namespace: str | None, matcher: Matcher = lambda obj: True
             ) -> tuple[list[dict], int]:
        """(matching objects sorted by namespace and name, the store's resourceVersion)."""
        with self.lock:
            items = [self.present(resource, obj) for key, obj in sorted(self.objects.items())
                     if key[:2] == (resource.group, resource.plural) and (not namespace or key[2] == namespace)
                     and matcher(obj)]
            return items, self.rv

    # --- writing ---------------------------------------------------------------------------------

    def create(self, resource: ResourceType, namespace: str, body: dict, dry_run: bool = False) -> dict:
        self._check_kind(resource, body)
        obj = copy.deepcopy(body)
        meta = obj.setdefault("metadata", {})
        if resource.namespaced:
            if meta.get("namespace") and namespace and meta["namespace"] != namespace:
                raise bad_request("the namespace of the provided object does not match the namespace sent on the request")
            meta["namespace"] = namespace = namespace or meta.get("namespace", "")
        else:
            meta.pop("namespace", None)
        with self.lock:
            self._require_namespace(resource, namespace)
            if not meta.get("name") and meta.get("generateName"):
                meta["name"] = meta["generateName"] + random_suffix()
            if not meta.get("name"):
                raise invalid(resource, "", [("metadata.name", "Required value: name or generateName is required")])
            key = self.key(resource, namespace, meta["name"])
            if key in self.objects:
                raise already_exists(resource, meta["name"])
            for field in ("resourceVersion", "deletionTimestamp", "managedFields"):
                meta.pop(field, None)
            meta.update(uid=str(uuid.uuid4()), creationTimestamp=now(), generation=1)
            if resource.has_status:
                obj.pop("status", None)
            obj["apiVersion"], obj["kind"] = resource.api_version, resource.kind
            admission.apply_defaults(resource, obj, None, self._allocate_ip)
            admission.validate(resource, obj, None)
            if dry_run:
                return self.present(resource, obj)
            if (resource.group, resource.plural) == CRDS:
                self._register_crd(obj)
            return self.present(resource, self._commit("ADDED", key, obj, None))

    def update(self, resource: ResourceType, namespace: str, name: str, body: dict,
               subresource: str | None = None, dry_run: bool = False) -> dict:
        self._check_kind(resource, body)
        if (body.get("metadata") or {}).get("name", name) != name:
            raise bad_request(f"the name of the object ({body['metadata']['name']}) does not match the name on "
                              f"the URL ({name})")
        with self.lock:
            key = self.key(resource, namespace, name)
            current = self.objects.get(key)
            if current is None:
                raise not_found(resource, name)
            wanted_rv = (body.get("metadata") or {}).get("resourceVersion")
            if wanted_rv and wanted_rv != current["metadata"]["resourceVersion"]:
                raise conflict(resource, name)
            return self._replace(resource, key, current, body, subresource, dry_run)

    def _replace(self, resource: ResourceType, key: Key, current: dict, body: dict, subresource: str | None,
                 dry_run: bool) -> dict:
        if subresource == "status":
            obj = copy.deepcopy(current)
            obj["status"] = copy.deepcopy(body.get("status"))
            if obj["status"] is None:
                obj.pop("status")
        else:
            obj = copy.deepcopy(body)
            obj.setdefault("metadata", {})
            if resource.has_status:
                obj.pop("status", None)
                if "status" in current:
                    obj["status"] = copy.deepcopy(current["status"])
        meta, old_meta = obj["metadata"], current["metadata"]
        for field in ("name", "namespace", "uid", "creationTimestamp", "generation", "deletionTimestamp",
                      "deletionGracePeriodSeconds"):
            if field in old_meta:
                meta[field] = old_meta[field]
            else:
                meta.pop(field, None)
        obj["apiVersion"], obj["kind"] = resource.api_version, resource.kind
        admission.apply_defaults(resource, obj, current, self._allocate_ip)
        if _spec_of(obj) != _spec_of(current):
            meta["generation"] = old_meta.get("generation", 1) + 1
        meta["resourceVersion"] = old_meta["resourceVersion"]
        if obj == current:
            return self.present(resource, current)     # a no-op write changes nothing, not even the version
        admission.validate(resource, obj, current)
        if dry_run:
            return self.present(resource, obj)
        if meta.get("deletionTimestamp") and not meta.get("finalizers"):
            self._remove(resource, key, obj, "Background")
            return self.present(resource, obj)
        if (resource.group, resource.plural) == CRDS:
            self._register_crd(obj)
        return self.present(resource, self._commit("MODIFIED", key, obj, current))

    def patch(self, resource: ResourceType, namespace: str, name: str, content_type: str, body: object,
              subresource: str | None = None, field_manager: str | None = None, dry_run: bool = False) -> dict:
        kind = content_type.split(";")[0].strip()
        with self.lock:
            key = self.key(resource, namespace, name)
            current = self.objects.get(key)
            if kind == "application/apply-patch+yaml":
                return self._apply(resource, namespace, name, body, current, subresource, field_manager, dry_run)
            if current is None:
                raise not_found(resource, name)
            base = self.present(resource, current)
            if kind == "application/merge-patch+json":
                patched = patches.merge_patch(base, body)
            elif kind == "application/strategic-merge-patch+json":
                if not resource.builtin:
                    raise unsupported_media_type(f"{kind} is not supported for custom resources "
                                                 f"({resource.group_resource}): use a merge patch or a JSON patch")
                patched = patches.strategic_merge(base, body)
            elif kind == "application/json-patch+json":
                patched = patches.json_patch(base, body)
            else:
                raise unsupported_media_type(content_type)
            if not isinstance(patched, dict):
                raise bad_request("the patch does not produce an object")
            wanted_rv = (patched.get("metadata") or {}).get("resourceVersion")
            if wanted_rv and wanted_rv != current["metadata"]["resourceVersion"]:
                raise conflict(resource, name)
            return self._replace(resource, key, current, patched, subresource, dry_run)

    def _apply(self, resource: ResourceType, namespace: str, name: str, applied: object, current: dict | None,
               subresource: str | None, field_manager: str | None, dry_run: bool) -> dict:
        if not field_manager:
            raise bad_request("PATCH with application/apply-patch+yaml requires the fieldManager parameter")
        if not isinstance(applied, dict):
            raise bad_request("an apply patch must be an object")
        self._check_kind(resource, applied)
        if (applied.get("metadata") or {}).get("name", name) != name:
            raise bad_request("the name of the applied object does not match the name on the URL")
        if current is None:
            if subresource:
                raise not_found(resource, name)
            body = copy.deepcopy(applied)
            body.setdefault("metadata", {})["name"] = name
            created = self.create(resource, namespace, body, dry_run)
            if not dry_run:
                self.applied[(created["metadata"]["uid"], field_manager)] = copy.deepcopy(applied)
            return created
        memory = (current["metadata"]["uid"], field_manager)
        merged = patches.apply(self.present(resource, current), applied, self.applied.get(memory), resource.builtin)
        merged["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
        result = self._replace(resource, self.key(resource, namespace, name), current, merged, subresource, dry_run)
        if not dry_run:
            self.applied[memory] = copy.deepcopy(applied)
        return result

    def delete(self, resource: ResourceType, namespace: str, name: str, propagation: str | None = None,
               preconditions: dict | None = None, dry_run: bool = False) -> tuple[dict, bool]:
        """(what was deleted, whether it is gone now: False while finalizers hold it)."""
        with self.lock:
            key = self.key(resource, namespace, name)
            current = self.objects.get(key)
            if current is None:
                raise not_found(resource, name)
            meta = current["metadata"]
            for field in ("uid", "resourceVersion"):
                wanted = (preconditions or {}).get(field)
                if wanted and wanted != meta.get(field):
                    raise conflict(resource, name, f"Precondition failed: {field} in precondition: {wanted}, "
                                                   f"{field} in object meta: {meta.get(field)}")
            if dry_run:
                return self.present(resource, current), True
            if meta.get("finalizers"):
                if not meta.get("deletionTimestamp"):
                    marked = copy.deepcopy(current)
                    marked["metadata"].update(deletionTimestamp=now(), deletionGracePeriodSeconds=0)
                    return self.present(resource, self._commit("MODIFIED", key, marked, current)), False
                return self.present(resource, current), False
            return self._remove(resource, key, current, propagation), True

    def _remove(self, resource: ResourceType, key: Key, current: dict, propagation: str | None) -> dict:
        gone = self.present(resource, self._commit("DELETED", key, None, current))
        uid = current["metadata"]["uid"]
        for memory in [m for m in self.applied if m[0] == uid]:
            del self.applied[memory]
        if (resource.group, resource.plural) == NAMESPACE_KEY:
            self._delete_where(lambda k, obj: k[2] == key[3])
        elif (resource.group, resource.plural) == CRDS:
            spec = current["spec"]
            self._delete_where(lambda k, obj: k[:2] == (spec["group"], spec["names"]["plural"]))
            self.types.remove_crd(current["metadata"]["name"])
        if propagation != "Orphan":
            self._delete_where(lambda k, obj: self._orphaned_by(obj, uid))
        return gone

    def _orphaned_by(self, obj: dict, uid: str) -> bool:
        owners = {ref.get("uid") for ref in obj["metadata"].get("ownerReferences") or []}
        if uid not in owners:
            return False
        living = {o["metadata"]["uid"] for o in self.objects.values()}
        return not owners & living

    def _delete_where(self, condition: Callable[[Key, dict], bool]) -> None:
        for key in [k for k, obj in self.objects.items() if condition(k, obj)]:
            if key in self.objects:
                resource = self._any_version(key)
                self._remove(resource, key, self.objects[key], "Background")

    def _any_version(self, key: Key) -> ResourceType:
        served = self.types.of_group_resource(key[0], key[1])
        if not served:    # the CRD went first: present the object as its own apiVersion says
            obj = self.objects[key]
            group, _, version = obj["apiVersion"].rpartition("/")
            return ResourceType(group, version, key[1], obj["kind"], bool(key[2]), builtin=False)
        return served[0]

    def _register_crd(self, crd: dict) -> None:
        names = (crd.get("spec") or {}).get("names") or {}
        group = (crd.get("spec") or {}).get("group", "")
        if crd["metadata"]["name"] != f"{names.get('plural')}.{group}":
            raise invalid(self.type_of("apiextensions.k8s.io/v1", "CustomResourceDefinition"), crd["metadata"]["name"],
                          [("metadata.name", "Invalid value: must be spec.names.plural+\".\"+spec.group")])
        self.types.set_crd(crd)

    # --- watching --------------------------------------------------------------------------------

    def watch(self, resource: ResourceType, namespace: str | None, matcher: Matcher, resource_version: str | None,
              send_initial: bool, timeout: float, bookmark_every: float | None) -> Iterator[tuple[str, dict]]:
        """The (type, object) events of a watch, until `timeout` passes or the store closes.

        From a resourceVersion: the changes after it. Without one (or "0"), or with sendInitialEvents: an
        ADDED event per existing object first; sendInitialEvents ends those with a BOOKMARK that carries the
        `k8s.io/initial-events-end` annotation.
        """
        with self.lock:
            initial: list[tuple[str, dict]] = []
            if send_initial or resource_version in (None, "", "0"):
                items, _ = self.list(resource, namespace, matcher)
                initial = [("ADDED", item) for item in items]
                position = len(self.events)
                if send_initial:
                    initial.append(("BOOKMARK", self._bookmark(resource, initial_end=True)))
            else:
                since = _parse_rv(resource_version)
                if since < self.compacted_rv:
                    raise expired(f"too old resource version: {since} ({self.compacted_rv})")
                position = next((i for i, e in enumerate(self.events) if e.rv > since), len(self.events))
        return self._stream(resource, namespace, matcher, initial, position, timeout, bookmark_every)

    def _stream(self, resource: ResourceType, namespace: str | None, matcher: Matcher, initial: list,
                position: int, timeout: float, bookmark_every: float | None) -> Iterator[tuple[str, dict]]:
        yield from initial
        deadline = time.monotonic() + timeout
        next_bookmark = time.monotonic() + bookmark_every if bookmark_every else None
        while True:
            with self.lock:
                while position >= len(self.events) and not self.closed:
                    remaining = min(deadline, next_bookmark or deadline) - time.monotonic()
                    if remaining <= 0:
                        break
                    self.changed.wait(remaining)
                if self.closed or (position >= len(self.events) and time.monotonic() >= deadline):
                    return
                pending, position = self.events[position:], len(self.events)
                bookmark = None
                if next_bookmark and time.monotonic() >= next_bookmark:
                    bookmark = self._bookmark(resource)
                    next_bookmark = time.monotonic() + bookmark_every
            for event in pending:
                shown = self._as_seen(resource, namespace, matcher, event)
                if shown:
                    yield shown
            if bookmark:
                yield ("BOOKMARK", bookmark)

    def _bookmark(self, resource: ResourceType, initial_end: bool = False) -> dict:
        meta = {"resourceVersion": str(self.rv)}
        if initial_end:
            meta["annotations"] = {"k8s.io/initial-events-end": "true"}
        return {"apiVersion": resource.api_version, "kind": resource.kind, "metadata": meta}

    def _as_seen(self, resource: ResourceType, namespace: str | None, matcher: Matcher, event: Event
                 ) -> tuple[str, dict] | None:
        """The event as this watch sees it: objects entering or leaving its selector appear or vanish."""
        if event.key[:2] != (resource.group, resource.plural) or (namespace and event.key[2] != namespace):
            return None
        now_matches = matcher(event.obj)
        before_matched = matcher(event.old) if event.old is not None else None
        shown = self.present(resource, event.obj)
        if event.type == "MODIFIED" and before_matched is not None and before_matched != now_matches:
            return ("ADDED", shown) if now_matches else ("DELETED", shown)
        return (event.type, shown) if now_matches else None

    def compact(self) -> None:
        """Forget the event history: watches from an older resourceVersion now get 410 Gone."""
        with self.lock:
            self.events.clear()
            self.compacted_rv = self.rv

    def close(self) -> None:
        with self.lock:
            self.closed = True
            self.changed.notify_all()

    def wait_for(self, condition: Callable[[], bool], timeout: float) -> bool:
        """Wait until `condition()` (evaluated under the lock) holds or `timeout` passes."""
        with self.lock:
            return self.changed.wait_for(lambda: self.closed or condition(), timeout)


def _spec_of(obj: dict) -> dict:
    """What changes the generation: everything but metadata and status."""
    return {key: value for key, value in obj.items() if key not in ("metadata", "status", "apiVersion", "kind")}


def _parse_rv(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise bad_request(f"invalid resourceVersion {text!r}") from None
