"""`mlp serve pipelines`: the pipeline controller (contracts §3)."""

from __future__ import annotations

from pathlib import Path

import click

from mlplatform.db import default_url
from mlplatform.runners import RUNNER_KINDS


@click.command("pipelines")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8888, show_default=True, type=int)
@click.option(
    "--db", default=default_url("pipelines.db"), show_default=True, help="SQLAlchemy URL of the state."
)
@click.option("--runner", type=click.Choice(RUNNER_KINDS), default="local", show_default=True)
@click.option(
    "--state-dir",
    type=click.Path(path_type=Path),
    default=Path(".mlplatform/pipelines"),
    show_default=True,
    help="Local runner state and task files.",
)
@click.option(
    "--max-parallel",
    type=click.IntRange(min=1),
    default=4,
    show_default=True,
    help="Tasks the local runner runs at once.",
)
@click.option(
    "--artifact-root",
    default=None,
    help="Where artifacts go: a directory or s3://bucket/prefix (default: <state-dir>/artifacts).",
)
def serve(
    host: str, port: int, db: str, runner: str, state_dir: Path, max_parallel: int, artifact_root: str | None
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
    )
    app = build_app(settings)
    click.echo(
        f"pipeline controller on http://{host}:{port} (runner {runner}, artifacts {settings.artifact_root})"
    )
    serve_app(app, host, port)
