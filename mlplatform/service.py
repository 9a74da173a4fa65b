"""What every platform HTTP service shares: health, readiness, Prometheus metrics and serving.

    app = FastAPI(...)
    metrics = add_operational_routes(app, ready=lambda: store.ping())
    serve(app, host, port)

`/healthz` answers while the process runs; `/readyz` answers 200 only when `ready()` returns None
(otherwise 503 with the reason); `/metrics` exposes the service's own registry.
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

ReadyCheck = Callable[[], str | None]  # None when ready, otherwise the reason it is not


def add_operational_routes(app, ready: ReadyCheck, registry: CollectorRegistry | None = None) -> CollectorRegistry:
    """Add /healthz, /readyz and /metrics to a FastAPI app; returns the metrics registry to add to."""
    from fastapi.responses import JSONResponse, Response

    registry = registry or CollectorRegistry()

    @app.get("/healthz", include_in_schema=False)
    def healthz():
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    def readyz():
        try:
            reason = ready()
        except Exception as error:  # a readiness probe reports, it does not crash
            reason = f"{type(error).__name__}: {error}"
        if reason:
            return JSONResponse({"status": "not ready", "reason": reason}, status_code=503)
        return {"status": "ready"}

    @app.get("/metrics", include_in_schema=False)
    def metrics():
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return registry


def serve(app, host: str, port: int, log_level: str = "info") -> None:
    """Run the app with uvicorn until interrupted."""
    import uvicorn

    uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=False)
