"""`mlp serve tuning`: the tuning service."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from mlplatform.service import service_options


@click.command(help="Run the tuning service: Katib Experiments on Optuna, trials on a runner.")
@service_options(service="tuning", port=8585, work="trials")
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
