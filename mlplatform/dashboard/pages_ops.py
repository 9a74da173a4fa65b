"""Rollouts (the canary's weight, each step's analysis, promote and abort) and the platform's validation:
`mlp validate`'s checks on local mode's state, else the health check against the URLs the dashboard was
given (as in a cluster)."""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from mlplatform.dashboard import rollouts
from mlplatform.dashboard.backends import BackendProblem
from mlplatform.dashboard.settings import BACKENDS
from mlplatform.dashboard.traffic import traffic_by_track
from mlplatform.dashboard.viewer import pipelines, prometheus, render, settings_of
from mlplatform.errors import MlpError

ACTIONS = {"promote": rollouts.promote, "abort": rollouts.abort}


def router() -> APIRouter:
    api = APIRouter()

    @api.get("/rollouts", response_class=HTMLResponse)
    def rollout_page(request: Request, done: str = ""):
        settings = settings_of(request)
        if settings.state_dir is None and not settings.prometheus_url:
            raise BackendProblem("the rollout page needs local mode's state (--endpoints <state-dir>/endpoints.json) "
                                 "or Prometheus (--prometheus-url URL)", 503)
        status = _call(rollouts.rollout_status, settings.state_dir) if settings.state_dir else None
        live = traffic_by_track(prometheus(request)) if settings.prometheus_url else None
        return render(request, "rollouts.html", title="Rollouts", status=status, traffic=live, done=done)

    @api.get("/rollouts/{action}", response_class=HTMLResponse)
    def confirm(request: Request, action: str):
        _action(action)
        status = _call(rollouts.rollout_status, state_dir(request, "the rollout page"))
        return render(request, "confirm.html", title=f"Confirm {action}", action=action, status=status)

    @api.post("/rollouts/{action}")
    def act(request: Request, action: str):
        _refuse_other_sites(request)
        done = _call(_action(action), state_dir(request, f"{action}"))
        return RedirectResponse(f"{request.scope.get('root_path', '')}/rollouts?done={done}", status_code=303)

    @api.get("/platform", response_class=HTMLResponse)
    def platform(request: Request):
        directory = settings_of(request).state_dir
        report = _call(validate, directory) if directory else _call(health, backend_urls(request))
        return render(request, "platform.html", title="Platform", report=report.to_dict())

    return api


def _refuse_other_sites(request: Request) -> None:
    """A browser sends Origin with a form POST: one from another site (a page the user happens to visit posting
    to a local dashboard) must not promote or abort a rollout."""
    origin = request.headers.get("origin")
    if origin and urlsplit(origin).netloc != request.headers.get("host"):
        raise BackendProblem(f"a rollout action from another site ({origin}) is refused", 403)


def state_dir(request: Request, what: str):
    directory = settings_of(request).state_dir
    if directory is None:
        raise BackendProblem(f"{what} needs local mode's state (start the dashboard with --endpoints "
                             "<state-dir>/endpoints.json)", 503)
    return directory


def _action(name: str):
    if name not in ACTIONS:
        raise BackendProblem(f"unknown rollout action {name!r}: use promote or abort", 404)
    return ACTIONS[name]


def _call(function, *args):
    try:
        return function(*args)
    except MlpError as error:
        raise BackendProblem(str(error), 400 if error.exit_code == 2 else 502) from None


def backend_urls(request: Request) -> dict[str, str]:
    """The component -> URL of every backend the dashboard was given (the --*-url flags)."""
    settings = settings_of(request)
    urls = {component: getattr(settings, field) for field, component in BACKENDS.items() if getattr(settings, field)}
    if "pipeline-controller" in urls:
        urls["pipeline-controller"] = pipelines(request).url   # the controller the dashboard is mounted in
    if not urls:
        raise BackendProblem("the platform page needs local mode's state (--endpoints <state-dir>/endpoints.json) "
                             "or at least one backend (--pipelines-url, --tuning-url, --registry-url, "
                             "--prometheus-url, --model-server-url)", 503)
    return urls


def health(urls: dict[str, str]):
    """`mlp validate`'s health check against `urls`: what the platform page shows without local mode's state."""
    from mlplatform.checks.base import CheckContext
    from mlplatform.checks.runner import load_checks, run_checks
    from mlplatform.endpoints import Endpoints
    from mlplatform.hooks.config import HookConfig

    context = CheckContext(config=HookConfig(Endpoints(services=urls, platform="kubernetes")), timeout=10.0)
    return run_checks(context, load_checks(("health",)), title="health: the dashboard's backends")


def validate(directory):
    """`mlp validate --local`'s checks and report."""
    from mlplatform.checks.cli import build_context
    from mlplatform.checks.runner import load_checks, run_checks
    from mlplatform.hooks.config import HookConfig

    context = build_context(HookConfig.local(directory, ()), directory, timeout=10.0)
    return run_checks(context, load_checks(()), title="validate: local mode")
