"""What every platform HTTP service shares: its command's flags, health, readiness, Prometheus metrics
and serving.

    @click.command()
    @service_options(service="tuning", port=8585, work="trials", protects="experiments.kubeflow.org")
    def serve(host, port, db, runner, state_dir, max_parallel, max_body_bytes, auth_mode, auth_tokens): ...

    app = FastAPI(...)
    metrics = add_operational_routes(app, ready=lambda: store.ping())
    serve(app, host, port)

`/healthz` answers while the process runs; `/readyz` answers 200 only when `ready()` returns None
(otherwise 503 with the reason); `/metrics` exposes the service's own registry.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import asynccontextmanager
from pathlib import Path

import click
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

ReadyCheck = Callable[[], str | None]  # None when ready, otherwise the reason it is not


def service_options(*, service: str, port: int, work: str, protects: str):
    """The flags every `mlp serve` command takes (contracts §3): --host, --port, --db, --runner,
    --state-dir, --max-parallel, --max-body-bytes, --auth-mode and --auth-tokens. `work` names what the runner runs
    (tasks, trials) and `protects` the resources a SubjectAccessReview names, in the help."""

    from mlplatform.cli.options import DEFAULT_STATE_DIR, absolute_database_url, state_dir_option
    from mlplatform.db import default_url
    from mlplatform.runners import RUNNER_KINDS

    options = [
        click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on."),
        click.option("--port", default=port, show_default=True, type=click.IntRange(0, 65535),
                     help="Port to listen on."),
        click.option("--db", default=default_url(f"{service}.db"), show_default=True, callback=absolute_database_url,
                     help="SQLAlchemy URL of the state (SQLite or PostgreSQL); a relative SQLite path is "
                          "relative to the working directory."),
        click.option("--runner", type=click.Choice(RUNNER_KINDS), default="local", show_default=True,
                     help=f"Where {work} run: local subprocesses or Kubernetes Jobs."),
        state_dir_option(default=DEFAULT_STATE_DIR / service,
                         help=f"Local runner state: one directory per {work[:-1]}, its output and its files."),
        click.option("--max-parallel", type=click.IntRange(min=1), default=4, show_default=True,
                     help=f"Local runner: {work} running at once."),
        click.option("--max-body-bytes", type=click.IntRange(min=1024), default=1024 * 1024, show_default=True,
                     help="Largest request body accepted (413 above it); pipeline uploads have their own limit."),
        click.option("--auth-mode", type=click.Choice(["none", "token", "kubernetes"]), default="none",
                     envvar="MLP_AUTH_MODE", show_default=True,
                     help="Multi-user mode: 'kubernetes' checks bearer tokens with TokenReview and each request with "
                          f"a SubjectAccessReview ({protects}, in the object's namespace); 'token' answers both from "
                          "--auth-tokens (local use, tests); 'none' serves every request."),
        click.option("--auth-tokens", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
                     envvar="MLP_AUTH_TOKENS", help="Token mode: a CSV of token,user,namespace[;namespace...]."),
    ]

    def decorate(command):
        for option in reversed(options):
            command = option(command)
        return command
    return decorate


def auth_from_flags(mode: str, tokens: Path | None):
    """The authenticator and authorizer --auth-mode and --auth-tokens ask for; None for `none`."""
    if mode == "none":
        return None
    from mlplatform.auth import KubernetesAuth, TokenAuth

    if mode == "token":
        if tokens is None:
            raise click.UsageError("--auth-mode token needs --auth-tokens FILE (token,user,namespace[;namespace...])")
        try:
            return TokenAuth.from_file(tokens)
        except ValueError as error:
            raise click.UsageError(str(error)) from None
    from mlplatform.kube import api_client

    return KubernetesAuth(api_client())


def serving_lifespan(*workers, closing=()):
    """A FastAPI lifespan: start each worker (None ones skipped) when serving begins; stop them in reverse
    order when it ends, then close each of `closing`."""
    running = [worker for worker in workers if worker is not None]

    @asynccontextmanager
    async def lifespan(_app):
        for worker in running:
            worker.start()
        try:
            yield
        finally:
            for worker in reversed(running):
                worker.stop()
            for resource in closing:
                resource.close()
    return lifespan


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

    # A request head up to 64 KiB (a KFP list filter, percent-encoded) reaches the app, which answers it in JSON.
    uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=False,
                h11_max_incomplete_event_size=64 * 1024)
