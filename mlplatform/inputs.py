"""Untrusted input, read safely: the one place every entry point (HTTP bodies, uploads, values and CLI
files) parses JSON and YAML (DESIGN §10, "Input").

    document = load_document(body, Limits())              # JSON, or one YAML document
    documents = load_yaml_documents(text, Limits())        # a multi-document YAML file
    document = await parse_off_loop(load_document, body)   # in a service: off the event loop, time-boxed
    app.add_middleware(BodyLimit, limits={"/apis/v2beta1/pipelines/upload": 32 * MiB})

Each limit, when crossed, raises InputRejected: a ValueError whose message names the limit, and whose
`status` is the HTTP status to answer (413 for size, 400 otherwise). The limits:

- size: `max_bytes` (1 MiB by default; pipeline uploads take 32 MiB);
- YAML aliases: at most `max_aliases` alias references, and the document, with every alias expanded,
  may have no more nodes than its text has bytes (a "billion laughs" of 500 bytes is refused at once);
- nesting: at most `max_depth` levels of mappings and sequences, in JSON and YAML alike;
- time: `parse_off_loop` gives up after `parse_seconds` (the parse runs in a small thread pool, so a
  slow parse never stalls the service's other requests).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import yaml

MiB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 1 * MiB
    max_depth: int = 64
    max_aliases: int = 100
    parse_seconds: float = 2.0


DEFAULT_LIMITS = Limits()


class InputRejected(ValueError):
    """Input over a limit, or not JSON/YAML. `str()` names what is wrong; `status` is the HTTP answer."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


# --- size ---------------------------------------------------------------------------------------------------


def check_size(data: bytes | str, limits: Limits = DEFAULT_LIMITS, what: str = "the body") -> None:
    size = len(data.encode() if isinstance(data, str) else data)
    if size > limits.max_bytes:
        raise InputRejected(f"{what} is {size} bytes, over the limit of {limits.max_bytes} bytes", status=413)


# --- JSON ---------------------------------------------------------------------------------------------------


def load_json(data: bytes | str, limits: Limits = DEFAULT_LIMITS, what: str = "the body") -> Any:
    check_size(data, limits, what)
    try:
        document = json.loads(data)
    except RecursionError:
        raise _too_deep(limits, what) from None
    except ValueError as error:
        raise InputRejected(f"{what} is not valid JSON: {error}") from None
    check_depth(document, limits, what)
    return document


def check_depth(document: Any, limits: Limits = DEFAULT_LIMITS, what: str = "the body") -> None:
    """Refuse data nested deeper than `limits.max_depth` (walked without recursion)."""
    stack = [(document, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        for child in children:
            if isinstance(child, (dict, list)):
                if depth + 1 > limits.max_depth:
                    raise _too_deep(limits, what)
                stack.append((child, depth + 1))


def _too_deep(limits: Limits, what: str) -> InputRejected:
    return InputRejected(f"{what} is nested deeper than the limit of {limits.max_depth} levels")


# --- YAML ---------------------------------------------------------------------------------------------------


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader, counting aliases and nesting while it composes the node graph."""

    limits = DEFAULT_LIMITS
    what = "the body"

    def __init__(self, stream):
        super().__init__(stream)
        self.aliases = 0
        self.depth = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > self.limits.max_aliases:
                raise InputRejected(f"{self.what} uses more than {self.limits.max_aliases} YAML aliases")
        self.depth += 1
        try:
            if self.depth > self.limits.max_depth:
                raise _too_deep(self.limits, self.what)
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def load_yaml_documents(data: bytes | str, limits: Limits = DEFAULT_LIMITS, what: str = "the body") -> list:
    """Every non-empty document of a YAML stream, within the limits."""
    check_size(data, limits, what)
    text = data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data
    loader_type = type("Loader", (_BoundedLoader,), {"limits": limits, "what": what})
    try:
        loader = loader_type(text)   # the reader refuses unprintable characters here already
        try:
            return _documents(loader, len(text), what)
        finally:
            loader.dispose()
    except yaml.YAMLError as error:
        raise InputRejected(f"{what} is not valid YAML: {error}".replace("\n", " ")) from None


def _documents(loader: _BoundedLoader, text_size: int, what: str) -> list:
    documents = []
    while loader.check_node():
        node = loader.get_node()
        _check_expansion(node, text_size, what)
        document = loader.construct_document(node)
        if document is not None:
            documents.append(document)
    return documents


def _check_expansion(root: yaml.Node, text_size: int, what: str) -> None:
    """The node count with every alias expanded may not exceed the text's size (each node costs a byte)."""
    sizes: dict[int, int] = {}

    def expanded(node: yaml.Node) -> int:   # depth is bounded by max_depth, so recursion is safe here
        if id(node) not in sizes:
            if isinstance(node, yaml.MappingNode):
                children = [child for pair in node.value for child in pair]
            elif isinstance(node, yaml.SequenceNode):
                children = node.value
            else:
                children = []
            sizes[id(node)] = 1 + sum(expanded(child) for child in children)
        return sizes[id(node)]

    if expanded(root) > max(text_size, 1):
        raise InputRejected(f"{what} expands (through YAML aliases) to more nodes than its {text_size} bytes "
                            "allow: refused as an alias bomb")


def load_yaml(data: bytes | str, limits: Limits = DEFAULT_LIMITS, what: str = "the body") -> Any:
    """Exactly one YAML document (None for an empty stream)."""
    documents = load_yaml_documents(data, limits, what)
    if len(documents) > 1:
        raise InputRejected(f"{what} must hold one YAML document, not {len(documents)}")
    return documents[0] if documents else None


def load_document(data: bytes | str, limits: Limits = DEFAULT_LIMITS, what: str = "the body") -> Any:
    """JSON when it parses as JSON, else exactly one YAML document (YAML is a superset of JSON)."""
    check_size(data, limits, what)
    stripped = data.lstrip()[:1]
    if stripped in ("{", "[", b"{", b"["):
        try:
            return load_json(data, limits, what)
        except InputRejected as error:
            if "not valid JSON" not in str(error):
                raise
    return load_yaml(data, limits, what)


# --- off the event loop -------------------------------------------------------------------------------------

_PARSERS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="parse")


async def parse_off_loop(parse: Callable[..., Any], *args, limits: Limits = DEFAULT_LIMITS, **kwargs) -> Any:
    """Run `parse(*args, **kwargs)` in the parser pool; InputRejected after `limits.parse_seconds`."""
    loop = asyncio.get_running_loop()
    future = loop.run_in_executor(_PARSERS, lambda: parse(*args, **kwargs))
    try:
        return await asyncio.wait_for(future, timeout=limits.parse_seconds)
    except TimeoutError:
        raise InputRejected(f"parsing took longer than the limit of {limits.parse_seconds:g}s") from None


# --- HTTP bodies --------------------------------------------------------------------------------------------


class BodyLimit:
    """ASGI middleware: a request body over its limit gets 413 naming the limit, before the app reads it.

    `default` applies to every path; `limits` maps path prefixes to their own (the longest match wins).
    A Content-Length over the limit is refused at once; a chunked body is counted as it arrives.
    A JSON body (by its content type) nested deeper than `max_depth` gets 400 before the app parses it;
    the check runs off the event loop (a framework that parses JSON itself would recurse on it)."""

    def __init__(self, app, default: int = DEFAULT_LIMITS.max_bytes, limits: dict[str, int] | None = None,
                 max_depth: int = DEFAULT_LIMITS.max_depth):
        self.app = app
        self.default = default
        self.limits = sorted((limits or {}).items(), key=lambda item: -len(item[0]))
        self.max_depth = max_depth

    def limit_for(self, path: str) -> int:
        return next((limit for prefix, limit in self.limits if path.startswith(prefix)), self.default)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = self.limit_for(scope["path"])
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            return await _refuse(send, 413, f"the request body is over the limit of {limit} bytes")
        received = 0

        async def counted_receive():
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise _BodyTooLarge(limit)
            return message

        try:
            if _is_json(scope):
                counted_receive = await self._depth_checked(counted_receive, limit)
            await self.app(scope, counted_receive, send)
        except _BodyTooLarge as error:
            await _refuse(send, 413, f"the request body is over the limit of {error.limit} bytes")
        except InputRejected as error:
            await _refuse(send, error.status, str(error))

    async def _depth_checked(self, receive, limit: int):
        """Read the whole (size-bounded) JSON body, check its depth off the loop, and replay it."""
        chunks, more = [], True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return receive
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        await parse_off_loop(check_json_limits, body, Limits(max_bytes=limit, max_depth=self.max_depth),
                             "the request body")
        replayed = False

        async def replay():
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return replay


def _is_json(scope) -> bool:
    content_type = dict(scope.get("headers") or []).get(b"content-type", b"").lower()
    return scope.get("method") in ("POST", "PUT", "PATCH") and b"json" in content_type


def check_json_limits(data: bytes | str, limits: Limits = DEFAULT_LIMITS, what: str = "the body") -> None:
    """Size and depth only: data that is not JSON at all is the caller's to refuse, in its own words."""
    try:
        load_json(data, limits, what)
    except InputRejected as error:
        if "not valid JSON" not in str(error):
            raise


class _BodyTooLarge(Exception):
    def __init__(self, limit: int):
        self.limit = limit


async def _refuse(send, status: int, message: str) -> None:
    grpc_code = 8 if status == 413 else 3   # RESOURCE_EXHAUSTED, INVALID_ARGUMENT (as KFP's errors carry)
    body = json.dumps({"error": message, "message": message, "code": grpc_code, "details": [],
                       "problems": [message]}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
