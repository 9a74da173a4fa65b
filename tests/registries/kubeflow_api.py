"""A small server that speaks the part of the Kubeflow Model Registry REST API (v1) its Python client uses.

Kubeflow Model Registry is a Go server backed by MLMD; it is not installable here. Like the test
Kubernetes API server, this lets the real `model-registry` client run unchanged against real HTTP:
registered models, versions and model artifacts, found by name, created, updated and listed.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

PREFIX = "/api/model_registry/v1"


class _Store:
    def __init__(self):
        self.lock = threading.Lock()
        self.next_id = 1
        self.models: dict[str, dict] = {}
        self.versions: dict[str, dict] = {}
        self.artifacts: dict[str, dict] = {}
        self.version_artifacts: dict[str, list[str]] = {}

    def new(self, table: dict, body: dict) -> dict:
        now = str(int(time.time() * 1000))
        item = {**body, "id": str(self.next_id), "createTimeSinceEpoch": now, "lastUpdateTimeSinceEpoch": now}
        item.setdefault("customProperties", {})
        item.setdefault("state", "LIVE")
        self.next_id += 1
        table[item["id"]] = item
        return item


def _listing(items: list[dict]) -> dict:
    return {"items": items, "nextPageToken": "", "pageSize": len(items), "size": len(items)}


class _Handler(BaseHTTPRequestHandler):
    store: _Store

    def log_message(self, *args):  # keep test output quiet
        pass

    def _send(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _not_found(self, what: str) -> None:
        self._send(404, {"code": "404", "message": f"{what} not found"})

    def _body(self) -> dict:
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length) or b"{}")

    def _route(self) -> tuple[list[str], dict]:
        parsed = urlparse(self.path)
        if not parsed.path.startswith(PREFIX):
            return [], {}
        parts = [part for part in parsed.path[len(PREFIX):].split("/") if part]
        return parts, {key: values[0] for key, values in parse_qs(parsed.query).items()}

    def do_GET(self):
        parts, query = self._route()
        store = self.store
        with store.lock:
            match parts:
                case ["registered_models"]:
                    return self._send(200, _listing(list(store.models.values())))
                case ["registered_models", model_id]:
                    found = store.models.get(model_id)
                    return self._send(200, found) if found else self._not_found("registered model")
                case ["registered_model"]:
                    found = next((m for m in store.models.values() if m["name"] == query.get("name")), None)
                    return self._send(200, found) if found else self._not_found("registered model")
                case ["registered_models", model_id, "versions"]:
                    versions = [v for v in store.versions.values() if v["registeredModelId"] == model_id]
                    return self._send(200, _listing(versions))
                case ["model_versions", version_id]:
                    found = store.versions.get(version_id)
                    return self._send(200, found) if found else self._not_found("model version")
                case ["model_version"]:
                    found = next((v for v in store.versions.values() if v["name"] == query.get("name")
                                  and v["registeredModelId"] == query.get("parentResourceId")), None)
                    return self._send(200, found) if found else self._not_found("model version")
                case ["model_versions", version_id, "artifacts"]:
                    ids = store.version_artifacts.get(version_id, [])
                    return self._send(200, _listing([store.artifacts[i] for i in ids]))
                case ["model_artifact"]:
                    ids = store.version_artifacts.get(query.get("parentResourceId", ""), [])
                    found = next((store.artifacts[i] for i in ids if store.artifacts[i].get("name") == query.get("name")),
                                 None)
                    return self._send(200, found) if found else self._not_found("model artifact")
        self._not_found(self.path)

    def do_POST(self):
        parts, _ = self._route()
        body = self._body()
        store = self.store
        with store.lock:
            match parts:
                case ["registered_models"]:
                    if any(m["name"] == body.get("name") for m in store.models.values()):
                        return self._send(409, {"code": "409", "message": "registered model exists"})
                    return self._send(201, store.new(store.models, body))
                case ["model_versions"]:
                    if body.get("registeredModelId") not in store.models:
                        return self._not_found("registered model")
                    return self._send(201, store.new(store.versions, body))
                case ["model_versions", version_id, "artifacts"]:
                    if version_id not in store.versions:
                        return self._not_found("model version")
                    artifact = store.new(store.artifacts, body)
                    store.version_artifacts.setdefault(version_id, []).append(artifact["id"])
                    return self._send(200, artifact)
        self._not_found(self.path)

    def do_PATCH(self):
        parts, _ = self._route()
        body = self._body()
        store = self.store
        tables = {"registered_models": store.models, "model_versions": store.versions, "model_artifacts": store.artifacts}
        with store.lock:
            if len(parts) == 2 and parts[0] in tables and parts[1] in tables[parts[0]]:
                item = tables[parts[0]][parts[1]]
                item.update({key: value for key, value in body.items() if value is not None})
                item["lastUpdateTimeSinceEpoch"] = str(int(time.time() * 1000))
                return self._send(200, item)
        self._not_found(self.path)


class KubeflowRegistryServer:
    """Start with `start()`; `url` is the base URL to give the client."""

    def __init__(self, port: int = 0):
        handler = type("Handler", (_Handler,), {"store": _Store()})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self) -> KubeflowRegistryServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
