"""`mlp serve training`: the training operator."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from mlplatform.service import auth_from_flags, service_options


@click.command(help="Run the training operator: Kubeflow PyTorchJob and TFJob, replicas as local processes or Jobs.")
@service_options(service="training", port=8686, work="replicas", protects="pytorchjobs/tfjobs.kubeflow.org")
@click.option("--watch-namespaces", default=None, envvar="MLP_WATCH_NAMESPACES",
              help="Cluster mode: act as the controller of kubeflow.org PyTorchJobs and TFJobs in these namespaces "
                   "(comma-separated; '*' for all). Unset: no controller.")
@click.option("--gang-timeout", type=click.IntRange(min=1), default=300, show_default=True,
              help="Kubernetes runner: seconds a replica waits for every other replica to be scheduled before "
                   "it fails (gang start).")
def serve(
    host: str, port: int, db: str, runner: str, state_dir: Path, max_parallel: int, max_body_bytes: int,
    watch_namespaces: str | None, gang_timeout: int, auth_mode: str, auth_tokens: Path | None,
) -> None:
    from mlplatform.service import serve as run
    from mlplatform.training.service import build_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = build_app(db=db, runner=runner, state_dir=state_dir, max_parallel=max_parallel,
                    max_body_bytes=max_body_bytes, watch_namespaces=watch_namespaces,
                    auth=auth_from_flags(auth_mode, auth_tokens), gang_timeout=gang_timeout)
    run(app, host, port)
