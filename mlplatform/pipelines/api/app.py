"""The FastAPI application: routes, error answers and the operational endpoints."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from mlplatform.inputs import BodyLimit, InputRejected, MiB
from mlplatform.openapi import answer_validation_with_400
from mlplatform.pipelines.api import experiments, pipelines, recurring_runs, runs
from mlplatform.pipelines.api.access import add_auth_errors
from mlplatform.pipelines.api.common import PREFIX, Services
from mlplatform.pipelines.errors import ApiError


def error_body(message: str, code: int) -> dict:
    """google.rpc.Status, as the KFP API server answers errors (plus `error`, as it also does)."""
    return {"error": message, "code": code, "message": message, "details": []}


def create_app(services: Services, max_body_bytes: int = 1 * MiB, max_upload_bytes: int = 32 * MiB) -> FastAPI:
    """`services.access` set: multi-user mode (api/access.py)."""
    app = FastAPI(title="mlplatform pipeline controller", description="Kubeflow Pipelines v2beta1 API subset")
    app.add_middleware(BodyLimit, default=max_body_bytes, limits={f"{PREFIX}/pipelines/upload": max_upload_bytes})
    app.state.max_upload_bytes = max_upload_bytes

    @app.exception_handler(HTTPException)
    async def http_error(_request: Request, error: HTTPException):   # a body FastAPI cannot parse, a bad path
        grpc_code = {404: 5, 405: 12}.get(error.status_code, 3)
        return JSONResponse(error_body(str(error.detail), grpc_code), status_code=error.status_code,
                            headers=getattr(error, "headers", None))

    @app.exception_handler(InputRejected)
    async def rejected(_request: Request, error: InputRejected):
        return JSONResponse(error_body(str(error), 8 if error.status == 413 else 3), status_code=error.status)

    @app.exception_handler(ApiError)
    async def api_error(_request: Request, error: ApiError):
        return JSONResponse(error_body(error.message, error.grpc_code), status_code=error.status_code)

    @app.exception_handler(RequestValidationError)
    async def bad_request(_request: Request, error: RequestValidationError):
        problems = "; ".join(
            f"{'.'.join(str(part) for part in item['loc'])}: {item['msg']}" for item in error.errors()
        )
        return JSONResponse(error_body(f"bad request: {problems}", 3), status_code=400)

    if services.access is not None:
        add_auth_errors(app, error_body)

    @app.get(f"{PREFIX}/healthz")
    def healthz():
        return {"multi_user": services.access is not None, "pipeline_store": "sql"}

    for module in (experiments, pipelines, runs, recurring_runs):
        app.include_router(module.router(services))
    answer_validation_with_400(app)
    return app
