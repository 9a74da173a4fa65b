"""`mlp serve tuning`: the tuning service."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from mlplatform.db import default_url
from mlplatform.runners import RUNNER_KINDS


@click.command(help="Run the tuning service: Katib Experiments on Optuna, trials on a runner.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8585, show_default=True, type=int)
@click.option(
    "--db",
    default=default_url("tuning.db"),
    show_default=True,
    help="SQLAlchemy URL of the state (experiments, trials, Optuna studies).",
)
@click.option(
    "--runner",
    type=click.Choice(RUNNER_KINDS),
    default="local",
    show_default=True,
    help="Where trials run: local subprocesses or Kubernetes Jobs.",
)
@click.option(
    "--state-dir",
    type=click.Path(path_type=Path),
    default=Path(".mlplatform/tuning"),
    show_default=True,
    help="Local runner state: one directory per trial.",
)
@click.option(
    "--max-parallel",
    default=4,
    show_default=True,
    type=click.IntRange(min=1),
    help="Local runner: trials running at once across all experiments.",
)
@click.option("--pipelines-url", default=None, help="The pipeline controller, for pipeline-run trials.")
def serve(
    host: str, port: int, db: str, runner: str, state_dir: Path, max_parallel: int, pipelines_url: str | None
) -> None:
    from mlplatform.service import serve as run
    from mlplatform.tuning.service import build_app, public_url

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = build_app(
        db=db,
        runner=runner,
        state_dir=state_dir,
        max_parallel=max_parallel,
        pipelines_url=pipelines_url,
        tuning_url=public_url(host, port),
    )
    run(app, host, port)
