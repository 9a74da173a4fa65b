"""The dashboard inside the pipeline controller: `<controller>/` opens it, so the links kfp.Client prints
(`<host>/#/runs/details/<id>`) reach the run page. It calls the controller's own API, with the viewer's token."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import RedirectResponse

from mlplatform.dashboard.app import build_app
from mlplatform.dashboard.settings import Settings
from mlplatform.dashboard.viewer import SAME_SERVER

MOUNT = "/dashboard"


def mount_dashboard(app: FastAPI) -> None:
    app.mount(MOUNT, build_app(Settings(pipelines_url=SAME_SERVER)))

    @app.get("/", include_in_schema=False)
    def open_dashboard():
        # A browser keeps the #fragment across this redirect, and the dashboard's index routes it.
        return RedirectResponse(f"{MOUNT}/")
