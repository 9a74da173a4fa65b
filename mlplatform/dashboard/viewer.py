"""The person viewing a page: their token, the backends on their behalf, and page rendering."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi import Request
from fastapi.templating import Jinja2Templates

from mlplatform.dashboard.backends import Backend
from mlplatform.dashboard.settings import Settings

TOKEN_COOKIE = "mlp_token"
SAME_SERVER = "same-server"   # pipelines_url when the dashboard is mounted in the pipeline controller itself
TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
NAVIGATION = (("runs", "Runs"), ("pipelines", "Pipelines"), ("experiments", "Experiments"),
              ("models", "Models"), ("rollouts", "Rollouts"), ("platform", "Platform"))


def settings_of(request: Request) -> Settings:
    return request.app.state.settings


def token_of(request: Request) -> str | None:
    """The bearer token an auth proxy (or the browser's client) sent, else the one pasted on /token."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return request.cookies.get(TOKEN_COOKIE) or None


def _backend(request: Request, title: str, flag: str, url: str | None) -> Backend:
    settings = settings_of(request)
    return Backend(title, flag, url, token_of(request), settings.timeout)


def pipelines(request: Request) -> Backend:
    url = settings_of(request).pipelines_url
    if url == SAME_SERVER:
        host, port = request.scope["server"]
        url = f"http://{host}:{port}"
    return _backend(request, "the pipeline controller", "--pipelines-url", url)


def tuning(request: Request) -> Backend:
    return _backend(request, "the tuning service", "--tuning-url", settings_of(request).tuning_url)


def registry(request: Request) -> Backend:
    return _backend(request, "the model registry (MLflow)", "--registry-url", settings_of(request).registry_url)


def model_server(request: Request) -> Backend:
    return _backend(request, "the model server", "--model-server-url", settings_of(request).model_server_url)


def prometheus(request: Request) -> Backend:
    return _backend(request, "Prometheus", "--prometheus-url", settings_of(request).prometheus_url)


def render(request: Request, template: str, status_code: int = 200, **context):
    base = request.scope.get("root_path", "")
    return TEMPLATES.TemplateResponse(request, template, {
        "base": base, "navigation": NAVIGATION, "section": request.url.path[len(base):].split("/")[1:2],
        "signed_in": token_of(request) is not None, **context}, status_code=status_code)


def script_json(data) -> str:
    """JSON to put inside <script type="application/json">: no `</script>` can end it early."""
    return json.dumps(data).replace("<", "\\u003c")
