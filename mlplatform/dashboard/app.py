"""The dashboard's FastAPI application: `build_app(settings)`.

Pages are rendered on the server (Jinja2); one small script (static/app.js) adds hash routing for
kfp.Client's links, the DAG drawing (dagre) with live states, and the charts (ECharts).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from mlplatform.dashboard import pages_models, pages_ops, pages_runs, pages_tuning
from mlplatform.dashboard.backends import BackendProblem
from mlplatform.dashboard.settings import Settings
from mlplatform.dashboard.viewer import TOKEN_COOKIE, render
from mlplatform.service import add_operational_routes

STATIC = Path(__file__).parent / "static"


def build_app(settings: Settings) -> FastAPI:
    app = FastAPI(title="mlplatform dashboard", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = settings
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    add_operational_routes(app, ready=lambda: None)

    @app.exception_handler(BackendProblem)
    async def backend_problem(request: Request, problem: BackendProblem):
        return render(request, "problem.html", status_code=problem.status, title="Not available",
                      message=str(problem), needs_token=problem.status in (401, 403))

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, error: RequestValidationError):
        problems = "; ".join(f"{item['loc'][-1]}: {item['msg']}" for item in error.errors())
        return render(request, "problem.html", status_code=400, title="Bad request", message=problems)

    @app.get("/", response_class=HTMLResponse)
    def index(request: Request):
        # kfp.Client prints <host>/#/runs/details/<id>: the hash never reaches a server, app.js routes it.
        return render(request, "index.html", title="mlplatform")

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon(request: Request):
        return RedirectResponse(f"{request.scope.get('root_path', '')}/static/favicon.svg")

    @app.get("/token", response_class=HTMLResponse)
    def token_form(request: Request):
        return render(request, "token.html", title="Sign in with a token")

    @app.post("/token")
    async def token_set(request: Request):
        form = await request.form()
        token = str(form.get("token") or "").strip()
        answer = RedirectResponse(f"{request.scope.get('root_path', '')}/runs", status_code=303)
        if token:
            answer.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="strict")
        else:
            answer.delete_cookie(TOKEN_COOKIE)
        return answer

    for module in (pages_runs, pages_tuning, pages_models, pages_ops):
        app.include_router(module.router())
    return app
