"""`mlp serve pipelines`: the pipeline controller (contracts §3)."""

from __future__ import annotations

from pathlib import Path

import click

from mlplatform.cli.options import absolute_location
from mlplatform.service import auth_from_flags, service_options


@click.command("pipelines")
@service_options(service="pipelines", port=8888, work="tasks",
                 protects="KFP's runs, experiments and pipelines in pipelines.kubeflow.org")
@click.option(
    "--artifact-root",
    default=None,
    callback=absolute_location,
    help="Where artifacts go: a directory or s3://bucket/prefix (default: <state-dir>/artifacts).",
)
@click.option("--max-upload-bytes", type=click.IntRange(min=1024), default=32 * 1024 * 1024, show_default=True,
              help="Largest pipeline package accepted by /pipelines/upload and /upload_version (413 above it).")
def serve(
    host: str, port: int, db: str, runner: str, state_dir: Path, max_parallel: int, artifact_root: str | None,
    max_body_bytes: int, max_upload_bytes: int, auth_mode: str, auth_tokens: Path | None,
) -> None:
    """Serve the KFP v2beta1 API and run pipelines (kfp.Client(host=...) works unchanged)."""
    from mlplatform.pipelines.service import Settings, build_app
    from mlplatform.service import serve as serve_app

    settings = Settings(
        db=db,
        runner=runner,
        state_dir=state_dir,
        max_parallel=max_parallel,
        artifact_root=artifact_root or str(state_dir / "artifacts"),
        max_body_bytes=max_body_bytes,
        max_upload_bytes=max_upload_bytes,
        auth=auth_from_flags(auth_mode, auth_tokens),
    )
    app = build_app(settings)
    click.echo(
        f"pipeline controller on http://{host}:{port} (runner {runner}, artifacts {settings.artifact_root}, "
        f"auth {auth_mode})"
    )
    serve_app(app, host, port)
