"""KubeApiServer: the test Kubernetes API server, its kubeconfig and its test-only helpers."""

from __future__ import annotations

import base64
import json
import re
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path

import yaml

from tests.support.kubeapi import errors, openapi
from tests.support.kubeapi import patch as patches
from tests.support.kubeapi.executor import JobExecutor
from tests.support.kubeapi.handler import KubeApiHandler, Request
from tests.support.kubeapi.kubelet import KubeletLite
from tests.support.kubeapi.resources import ResourceType, ResourceTypes
from tests.support.kubeapi.reviews import Reviews
from tests.support.kubeapi.selectors import match_labels_selector
from tests.support.kubeapi.store import Store

DEFAULT_VERSION = "v1.31.0"
TERMINAL_PHASES = ("Succeeded", "Failed")


class KubeApiServer:
    """A Kubernetes-API-compatible HTTP server for tests.

        with KubeApiServer(workdir) as server:
            ... server.url, server.kubeconfig ...

    `run_jobs`: Jobs (and Pods whose restartPolicy is not Always) run their containers' commands as
    local processes (executor.py). `kubelet`: Deployments, StatefulSets, ReplicaSets, DaemonSets, PVCs,
    Pods and LoadBalancer Services become ready at once (kubelet.py). Both can be switched at any time.
    """

    def __init__(self, workdir: Path, version: str = DEFAULT_VERSION, run_jobs: bool = False, kubelet: bool = False,
                 host: str = "127.0.0.1", port: int = 0, bookmark_seconds: float = 1.0):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.git_version = version
        self.bookmark_seconds = bookmark_seconds
        self.types = ResourceTypes()
        self.store = Store(self.types)
        self.requests: list[tuple[str, str]] = []     # (method, path) of every request, for tests to inspect
        self.logs: dict[tuple[str, str, str], str] = {}
        self.executor = JobExecutor(self)
        self.kubelet_lite = KubeletLite()
        self.store.reactors += [self.executor.react, self.kubelet_lite.react]
        self.reviews = Reviews(self)   # TokenReview (add_token) and SubjectAccessReview (RBAC in the store)
        handler = type("Handler", (KubeApiHandler,), {"api": self})
        self._httpd = ThreadingHTTPServer((host, port), handler)
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None
        self.run_jobs = run_jobs
        self.kubelet = kubelet

    # --- lifecycle -------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def kubeconfig(self) -> Path:
        return self.workdir / "kubeconfig"

    def start(self) -> KubeApiServer:
        self.kubeconfig.write_text(yaml.safe_dump(self.kubeconfig_document()))
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="kubeapi", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.store.close()
        self.executor.stop()
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self) -> KubeApiServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def kubeconfig_document(self, namespace: str = "default") -> dict:
        return {
            "apiVersion": "v1", "kind": "Config", "preferences": {},
            "clusters": [{"name": "kubeapi-test", "cluster": {"server": self.url}}],
            "users": [{"name": "tester", "user": {"token": "kubeapi-test-token"}}],
            "contexts": [{"name": "kubeapi-test",
                          "context": {"cluster": "kubeapi-test", "user": "tester", "namespace": namespace}}],
            "current-context": "kubeapi-test",
        }

    # --- switches and test-only helpers --------------------------------------------------------------

    @property
    def run_jobs(self) -> bool:
        return self.executor.enabled

    @run_jobs.setter
    def run_jobs(self, enabled: bool) -> None:
        self.executor.enabled = enabled
        if enabled:
            self.executor.resync(self.store)

    @property
    def kubelet(self) -> bool:
        return self.kubelet_lite.enabled

    @kubelet.setter
    def kubelet(self, enabled: bool) -> None:
        self.kubelet_lite.enabled = enabled
        if enabled:
            self.kubelet_lite.resync(self.store)

    def set_version(self, git_version: str) -> None:
        """What /version reports, e.g. "v1.29.4"."""
        if not re.match(r"^v\d+\.\d+", git_version):
            raise ValueError(f"a Kubernetes version looks like v1.31.0, not {git_version!r}")
        self.git_version = git_version

    def resource(self, api_version: str, kind: str) -> ResourceType:
        return self.store.type_of(api_version, kind)

    def objects(self, api_version: str, kind: str, namespace: str | None = None) -> list[dict]:
        """The stored objects of a kind (all namespaces unless one is given)."""
        return self.store.list(self.resource(api_version, kind), namespace)[0]

    def get(self, api_version: str, kind: str, name: str, namespace: str = "") -> dict | None:
        return self.store.find(self.resource(api_version, kind), namespace, name)

    def create(self, obj: dict) -> dict:
        """Store an object as a client would create it (namespace from its metadata)."""
        resource = self.resource(obj["apiVersion"], obj["kind"])
        return self.store.create(resource, (obj.get("metadata") or {}).get("namespace", ""), obj)

    def add_crd(self, group: str, version: str, kind: str, plural: str | None = None, namespaced: bool = True,
                status_subresource: bool = False) -> dict:
        """Create a CustomResourceDefinition that accepts any content; its resource is served at once."""
        plural = plural or kind.lower() + "s"
        return self.create({
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": f"{plural}.{group}"},
            "spec": {"group": group, "scope": "Namespaced" if namespaced else "Cluster",
                     "names": {"kind": kind, "plural": plural, "singular": kind.lower(), "listKind": f"{kind}List"},
                     "versions": [{"name": version, "served": True, "storage": True,
                                   **({"subresources": {"status": {}}} if status_subresource else {}),
                                   "schema": {"openAPIV3Schema": {"type": "object",
                                                                  "x-kubernetes-preserve-unknown-fields": True}}}]},
        })

    def set_pod_log(self, namespace: str, pod: str, text: str, container: str | None = None) -> None:
        """What pods/log returns for a pod's container (the only container when none is named)."""
        container = self.log_container(namespace, pod, container)
        with self.store.lock:
            self.logs[(namespace, pod, container)] = text
            self.store.changed.notify_all()

    def append_pod_log(self, namespace: str, pod: str, container: str, text: str) -> None:
        with self.store.lock:
            key = (namespace, pod, container)
            self.logs[key] = self.logs.get(key, "") + text
            self.store.changed.notify_all()

    def compact(self) -> None:
        """Forget the watch history, as etcd compaction does: older resourceVersions get 410 Gone."""
        self.store.compact()

    # --- responses the handler asks for -------------------------------------------------------------

    def version_info(self) -> dict:
        major, minor = re.match(r"^v(\d+)\.(\d+)", self.git_version).groups()
        return {"major": major, "minor": minor, "gitVersion": self.git_version, "gitCommit": "0" * 40,
                "gitTreeState": "clean", "buildDate": "2024-08-13T07:28:49Z", "goVersion": "go1.22.5",
                "compiler": "gc", "platform": "linux/amd64"}

    def root_discovery(self, path: str) -> tuple[int, dict]:
        if path.rstrip("/") == "/api":
            return 200, {"kind": "APIVersions", "versions": ["v1"],
                         "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0",
                                                         "serverAddress": self.url.removeprefix("http://")}]}
        if path.rstrip("/") == "/apis":
            return 200, self.types.api_group_list()
        if path == "/openapi/v3":
            return 200, openapi.root(self.types)
        if path.startswith("/openapi/v3/"):
            found = openapi.document(self.types, path.removeprefix("/openapi/v3/"))
            if found is not None:
                return 200, found
        raise errors.path_not_found(path)

    def list_response(self, request: Request) -> dict:
        resource = request.resource
        items, rv = self.store.list(resource, request.namespace, request.matcher())
        metadata: dict = {"resourceVersion": str(rv)}
        token = request.query.get("continue")
        if token:
            after = tuple(json.loads(base64.urlsafe_b64decode(token.encode())))
            items = [item for item in items if _position(item) > after]
        limit = int(request.query.get("limit") or 0)
        if limit and len(items) > limit:
            metadata["remainingItemCount"] = len(items) - limit
            items = items[:limit]
            metadata["continue"] = base64.urlsafe_b64encode(json.dumps(_position(items[-1])).encode()).decode()
        return {"kind": f"{resource.kind}List", "apiVersion": resource.api_version, "metadata": metadata,
                "items": items}

    def delete_collection(self, request: Request, body: object) -> dict:
        options = body if isinstance(body, dict) else {}
        propagation = request.query.get("propagationPolicy") or options.get("propagationPolicy")
        items, _ = self.store.list(request.resource, request.namespace, request.matcher())
        deleted = []
        for item in items:
            meta = item["metadata"]
            try:
                gone, _ = self.store.delete(request.resource, meta.get("namespace", ""), meta["name"], propagation,
                                            None, request.dry_run)
                deleted.append(gone)
            except errors.ApiError as error:
                if error.code != 404:
                    raise
        return {"kind": f"{request.resource.kind}List", "apiVersion": request.resource.api_version,
                "metadata": {"resourceVersion": str(self.store.rv)}, "items": deleted}

    @staticmethod
    def deleted_status(resource: ResourceType, obj: dict) -> dict:
        return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                "details": {"name": obj["metadata"]["name"], "group": resource.group, "kind": resource.plural,
                            "uid": obj["metadata"].get("uid")}}

    def scale(self, method: str, request: Request, body: object, content_type: str) -> dict:
        """The autoscaling/v1 Scale of a Deployment, StatefulSet or ReplicaSet."""
        resource, namespace, name = request.resource, request.namespace or "", request.name
        obj = self.store.get(resource, namespace, name)
        if method == "GET":
            return _scale_view(obj)
        if method == "PUT":
            wanted = body
        elif method == "PATCH":
            kind = content_type.split(";")[0].strip()
            wanted = patches.json_patch(_scale_view(obj), body) if kind == "application/json-patch+json" \
                else patches.merge_patch(_scale_view(obj), body)
        else:
            raise errors.method_not_allowed(f"{method} is not allowed on {resource.plural}/scale")
        replicas = ((wanted or {}).get("spec") or {}).get("replicas")
        if not isinstance(replicas, int) or replicas < 0:
            raise errors.invalid(resource, name, [("spec.replicas", f"Invalid value: {replicas!r}: must be >= 0")])
        obj["spec"]["replicas"] = replicas
        return _scale_view(self.store.update(resource, namespace, name, obj, dry_run=request.dry_run))

    # --- pod logs -------------------------------------------------------------------------------------

    def log_container(self, namespace: str, pod: str, container: str | None) -> str:
        obj = self.store.get(self.resource("v1", "Pod"), namespace, pod)
        spec = obj.get("spec") or {}
        names = [c["name"] for c in spec.get("containers") or []]
        every = [c["name"] for c in spec.get("initContainers") or []] + names
        if container is None:
            if len(names) != 1:
                raise errors.bad_request(f"a container name must be specified for pod {pod}, choose one of: "
                                         f"[{' '.join(names)}]")
            return names[0]
        if container not in every:
            raise errors.bad_request(f"container {container} is not valid for pod {pod}")
        return container

    def log_text(self, namespace: str, pod: str, container: str, query: dict) -> str:
        with self.store.lock:
            text = self.logs.get((namespace, pod, container), "")
        if query.get("tailLines"):
            lines = text.splitlines(keepends=True)
            text = "".join(lines[-int(query["tailLines"]):]) if int(query["tailLines"]) else ""
        if query.get("limitBytes"):
            text = text.encode()[: int(query["limitBytes"])].decode(errors="ignore")
        return text

    def follow_log(self, namespace: str, pod: str, container: str):
        """The log as it grows, until the pod finishes or goes."""
        sent = 0
        pod_type = self.resource("v1", "Pod")
        while True:
            with self.store.lock:
                self.store.wait_for(lambda: len(self.logs.get((namespace, pod, container), "")) > sent
                                    or _finished(self.store.find(pod_type, namespace, pod)), timeout=30)
                text = self.logs.get((namespace, pod, container), "")
                done = _finished(self.store.find(pod_type, namespace, pod)) or self.store.closed
            if len(text) > sent:
                yield text[sent:]
                sent = len(text)
            if done:
                return


def _finished(pod: dict | None) -> bool:
    return pod is None or (pod.get("status") or {}).get("phase") in TERMINAL_PHASES


def _position(item: dict) -> tuple[str, str]:
    return (item["metadata"].get("namespace", ""), item["metadata"]["name"])


def _scale_view(obj: dict) -> dict:
    meta = obj["metadata"]
    return {"kind": "Scale", "apiVersion": "autoscaling/v1",
            "metadata": {key: meta[key] for key in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
                         if key in meta},
            "spec": {"replicas": obj["spec"].get("replicas", 1)},
            "status": {"replicas": (obj.get("status") or {}).get("replicas", 0),
                       "selector": match_labels_selector(obj["spec"].get("selector"))}}
