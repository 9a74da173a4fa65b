"""`mlp serve dashboard`: the web UI (docs/dashboard.md)."""

from __future__ import annotations

from pathlib import Path

import click

from mlplatform.cli.options import absolute_path, http_url


def _url_option(flag: str, what: str):
    return click.option(flag, default=None, metavar="URL", callback=http_url,
                        help=f"{what} (its page says so when unset).")


@click.command("dashboard")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on.")
@_url_option("--pipelines-url", "The pipeline controller's KFP v2beta1 API")
@_url_option("--tuning-url", "The tuning service")
@_url_option("--registry-url", "The MLflow model registry")
@_url_option("--prometheus-url", "Prometheus")
@_url_option("--model-server-url", "The model server's routed entry point")
@click.option("--endpoints", "endpoints_file", type=absolute_path(exists=True, dir_okay=False), default=None,
              help="Local mode's endpoints.json: every URL from it (flags still win) and its state directory "
                   "for the rollout and platform pages.")
def serve(host: str, port: int, pipelines_url, tuning_url, registry_url, prometheus_url, model_server_url,
          endpoints_file: Path | None) -> None:
    """Serve the dashboard: runs and their DAGs, pipelines, experiments, models, rollouts, platform checks."""
    from mlplatform.dashboard.app import build_app
    from mlplatform.dashboard.settings import Settings
    from mlplatform.service import serve as serve_app

    settings = Settings.from_endpoints(endpoints_file) if endpoints_file else Settings()
    settings = settings.overridden(pipelines_url=pipelines_url, tuning_url=tuning_url, registry_url=registry_url,
                                   prometheus_url=prometheus_url, model_server_url=model_server_url)
    click.echo(f"dashboard on http://{host}:{port}")
    serve_app(build_app(settings), host, port)
