"""The HTTP side: Kubernetes REST paths and verbs mapped onto the store.

    /version /healthz /api /api/v1 /apis /apis/<group> /apis/<group>/<version>
    /api/v1/[namespaces/<ns>/]<plural>[/<name>[/<subresource>]]            (and /apis/<group>/<version>/...)
    /api/v1/watch/...                                                          (the old watch paths)

Discovery is the legacy (unaggregated) kind: it answers `application/json`, so client-go falls back
to it from aggregated discovery. Watches stream newline-separated JSON events over chunked encoding.
"""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, unquote, urlsplit

import yaml

from tests.support.kubeapi import errors, protobuf, reviews
from tests.support.kubeapi.errors import ApiError
from tests.support.kubeapi.resources import ResourceType
from tests.support.kubeapi.selectors import selector_matcher

DEFAULT_WATCH_SECONDS = 1800


class Request:
    """A parsed resource request."""

    def __init__(self, resource: ResourceType, namespace: str | None, name: str | None, subresource: str | None,
                 query: dict[str, str], watch: bool):
        self.resource = resource
        self.namespace = namespace
        self.name = name
        self.subresource = subresource
        self.query = query
        self.watch = watch or query.get("watch") in ("true", "1")

    @property
    def dry_run(self) -> bool:
        return bool(self.query.get("dryRun"))

    def matcher(self):
        return selector_matcher(self.query.get("labelSelector"), self.query.get("fieldSelector"))


class KubeApiHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "kubeapi-test"
    disable_nagle_algorithm = True   # otherwise delayed ACKs add 40 ms to every keep-alive request

    # The KubeApiServer this handler serves; set on the handler class the server builds.
    api = None

    def log_message(self, format, *args):
        pass

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_PUT(self):
        self._dispatch("PUT")

    def do_PATCH(self):
        self._dispatch("PATCH")

    def do_DELETE(self):
        self._dispatch("DELETE")

    # --- plumbing ----------------------------------------------------------------------------------

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        query = {key: values[-1] for key, values in parse_qs(url.query, keep_blank_values=True).items()}
        try:
            body = self._read_body()
            self.api.requests.append((method, self.path))
            self._route(method, unquote(url.path), query, body)
        except ApiError as error:
            self._send_json(error.code, error.status())
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _read_body(self) -> object:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return None
        content_type = (self.headers.get("Content-Type") or "application/json").split(";")[0].strip()
        if content_type == "application/vnd.kubernetes.protobuf":
            return protobuf.decode(raw)
        try:
            if content_type.endswith("yaml"):
                return yaml.safe_load(raw)
            return json.loads(raw)
        except (ValueError, yaml.YAMLError) as error:
            raise errors.bad_request(f"the request body is not valid {content_type}: {error}") from None

    def _send_json(self, code: int, body: object) -> None:
        payload = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()
        self.wfile.write(payload)

    def _send_text(self, code: int, text: str) -> None:
        payload = text.encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _start_stream(self, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()

    def _send_chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _end_stream(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    # --- routing -----------------------------------------------------------------------------------

    def _route(self, method: str, path: str, query: dict, body: object) -> None:
        segments = [part for part in path.split("/") if part]
        path = "/" + "/".join(segments)
        if path in ("/healthz", "/livez", "/readyz"):
            return self._send_text(200, "ok")
        if path == "/version":
            return self._send_json(200, self.api.version_info())
        review = tuple(segments[1:4])
        if method == "POST" and segments[:1] == ["apis"] and review in (reviews.AUTHENTICATION, reviews.AUTHORIZATION):
            return self._send_json(201, self.api.reviews.answer(review[2], body))
        if method == "GET" and (segments in (["api"], ["apis"]) or segments[:1] == ["openapi"]):
            return self._send_json(*self.api.root_discovery(path))
        if segments[:1] == ["api"] and len(segments) >= 2:
            group, version, rest = "", segments[1], segments[2:]
        elif segments[:1] == ["apis"] and len(segments) >= 3:
            group, version, rest = segments[1], segments[2], segments[3:]
        elif segments[:1] == ["apis"] and len(segments) == 2 and method == "GET":
            found = self.api.types.api_group(segments[1])
            if found is None:
                raise errors.path_not_found(path)
            return self._send_json(200, found)
        else:
            raise errors.path_not_found(path)
        if not rest:
            if method != "GET":
                raise errors.method_not_allowed(f"{method} is not allowed on {path}")
            found = self.api.types.api_resource_list(group, version)
            if found is None:
                raise errors.path_not_found(path)
            return self._send_json(200, found)
        request = self._parse_resource_path(path, group, version, rest, query)
        return self._serve(method, request, body)

    def _parse_resource_path(self, path: str, group: str, version: str, rest: list[str], query: dict) -> Request:
        watch = rest[0] == "watch"
        if watch:
            rest = rest[1:]
        namespaced_path = (len(rest) >= 3 and rest[0] == "namespaces"
                           and (found := self.api.types.find(group, version, rest[2])) is not None and found.namespaced)
        namespace = rest[1] if namespaced_path else None
        parts = rest[2:] if namespaced_path else rest
        if not parts or len(parts) > 3:
            raise errors.path_not_found(path)
        resource = self.api.types.find(group, version, parts[0])
        if resource is None:
            raise errors.path_not_found(path)
        name = parts[1] if len(parts) > 1 else None
        subresource = parts[2] if len(parts) > 2 else None
        if subresource and subresource not in resource.subresources:
            raise errors.path_not_found(path)
        if resource.namespaced and name and namespace is None:
            raise errors.path_not_found(path)
        return Request(resource, namespace, name, subresource, query, watch)

    def _serve(self, method: str, request: Request, body: object) -> None:
        api, store = self.api, self.api.store
        resource, namespace, name = request.resource, request.namespace or "", request.name
        if name is None:
            if method == "GET" and request.watch:
                return self._watch(request)
            if method == "GET":
                return self._send_json(200, api.list_response(request))
            if method == "POST":
                created = store.create(resource, namespace, _object_body(body), request.dry_run)
                return self._send_json(201, created)
            if method == "DELETE":
                return self._send_json(200, api.delete_collection(request, body))
            raise errors.method_not_allowed(f"{method} is not allowed on a collection")
        if request.watch:
            raise errors.bad_request("watch a single object with a fieldSelector on metadata.name")
        if request.subresource == "log":
            if method != "GET":
                raise errors.method_not_allowed("pods/log only answers GET")
            return self._pod_log(request)
        if request.subresource == "scale":
            return self._send_json(200, api.scale(method, request, body, self.headers.get("Content-Type", "")))
        if method == "GET":
            return self._send_json(200, store.get(resource, namespace, name))
        if method == "PUT":
            return self._send_json(200, store.update(resource, namespace, name, _object_body(body),
                                                     request.subresource, request.dry_run))
        if method == "PATCH":
            content_type = self.headers.get("Content-Type", "")
            patched_existing = store.find(resource, namespace, name) is not None
            result = store.patch(resource, namespace, name, content_type, body, request.subresource,
                                 request.query.get("fieldManager"), request.dry_run)
            return self._send_json(200 if patched_existing else 201, result)
        if method == "DELETE":
            options = body if isinstance(body, dict) else {}
            propagation = request.query.get("propagationPolicy") or options.get("propagationPolicy")
            dry_run = request.dry_run or bool(options.get("dryRun"))
            deleted, gone = store.delete(resource, namespace, name, propagation, options.get("preconditions"), dry_run)
            return self._send_json(200, api.deleted_status(resource, deleted) if gone else deleted)
        raise errors.method_not_allowed(f"{method} is not allowed on {resource.plural}/{name}")

    def _watch(self, request: Request) -> None:
        query = request.query
        timeout = float(query.get("timeoutSeconds") or DEFAULT_WATCH_SECONDS)
        bookmarks = self.api.bookmark_seconds if query.get("allowWatchBookmarks") == "true" else None
        events = self.api.store.watch(request.resource, request.namespace, request.matcher(),
                                      query.get("resourceVersion"), query.get("sendInitialEvents") == "true",
                                      timeout, bookmarks)
        self._start_stream("application/json")
        try:
            for kind, obj in events:
                self._send_chunk(_event_line(kind, obj))
            self._end_stream()
        finally:
            events.close()

    def _pod_log(self, request: Request) -> None:
        query = request.query
        container = self.api.log_container(request.namespace or "", request.name, query.get("container"))
        if query.get("follow") != "true":
            return self._send_text(200, self.api.log_text(request.namespace or "", request.name, container, query))
        self._start_stream("text/plain")
        for chunk in self.api.follow_log(request.namespace or "", request.name, container):
            self._send_chunk(chunk.encode())
        self._end_stream()


def _object_body(body: object) -> dict:
    if not isinstance(body, dict):
        raise errors.bad_request("the request body must be a JSON object")
    return body


def _event_line(kind: str, obj: dict) -> bytes:
    return json.dumps({"type": kind, "object": obj}).encode() + b"\n"
