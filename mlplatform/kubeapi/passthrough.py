"""One server URL for several services' Kubernetes API paths (local mode).

A Kubernetes client talks to one server per kubeconfig context, and Kubeflow's SDKs use the default
context. In a cluster the API server routes each group to its CRDs; in local mode one service is the
kubeconfig's server and forwards the paths another service owns, unchanged and streamed (watches and
followed logs pass through as they come):

    add_passthrough(app, "http://127.0.0.1:8686", ("/apis/kubeflow.org/v1/", "/api/v1/namespaces/", "/api/v1"))

A prefix ending in "/" forwards the paths below it and the path without its slash (the group version's
discovery document); one without forwards that exact path (core v1's discovery document). /api, /apis and
/openapi/v3 list the other service's groups and versions with this one's (mlplatform.kubeapi.discovery),
so kubectl finds them. When the other service does not answer, the client gets a 503 Status naming it.
"""

from __future__ import annotations

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.background import BackgroundTask

from mlplatform.kubeapi.discovery import discovery_of
from mlplatform.kubeapi.errors import KubeError

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
# Per connection, not end to end: never forwarded (RFC 9110 section 7.6.1), nor the length a stream recomputes.
_HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
               "transfer-encoding", "upgrade", "host", "content-length"}


class ServiceUnavailable(KubeError):
    code, reason = 503, "ServiceUnavailable"


def add_passthrough(app: FastAPI, upstream: str, prefixes: tuple[str, ...]) -> None:
    client = httpx.AsyncClient(base_url=upstream.rstrip("/"), timeout=httpx.Timeout(None, connect=10.0))

    async def forward(request: Request):
        outgoing = client.build_request(
            request.method, request.url.path, params=request.query_params, content=await request.body(),
            headers=[(k, v) for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP])
        try:
            answer = await client.send(outgoing, stream=True)
        except httpx.HTTPError as error:
            failure = ServiceUnavailable(f"{upstream} (which serves {request.url.path}) did not answer: {error}")
            return JSONResponse(failure.status(), status_code=failure.code)
        headers = {k: v for k, v in answer.headers.items() if k.lower() not in _HOP_BY_HOP}
        return StreamingResponse(answer.aiter_raw(), status_code=answer.status_code, headers=headers,
                                 background=BackgroundTask(answer.aclose))

    async def discovery_document(path: str, request: Request) -> dict | None:
        headers = {k: v for k, v in request.headers.items() if k.lower() == "authorization"}
        try:
            answer = await client.get(path, headers=headers, timeout=5.0)
            return answer.json() if answer.status_code == 200 else None
        except (httpx.HTTPError, ValueError):
            return None

    discovery_of(app).add_upstream(discovery_document)
    for prefix in prefixes:
        app.add_api_route(prefix.rstrip("/"), forward, methods=METHODS, include_in_schema=False)
        if prefix.endswith("/"):
            app.add_api_route(prefix + "{path:path}", forward, methods=METHODS, include_in_schema=False)
