"""`mlp serve tuning`: the tuning service."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from mlplatform.auth.token_file import POD_TOKEN_PATH, TokenFile
from mlplatform.cli.options import http_url
from mlplatform.service import auth_from_flags, service_options
from mlplatform.tuning.store import OutputRetention


@click.command(help="Run the tuning service: Katib Experiments on Optuna, trials on a runner.")
@service_options(service="tuning", port=8585, work="trials", protects="experiments.kubeflow.org")
@click.option("--pipelines-url", default=None, help="The pipeline controller, for pipeline-run trials.")
@click.option("--pipelines-token-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              envvar="MLP_PIPELINES_TOKEN_FILE",
              help="A bearer token pipeline-run trials send to a multi-user pipeline controller, read again on every "
                   f"call (default: the pod's ServiceAccount token, {POD_TOKEN_PATH}, when there is one).")
@click.option("--training-url", default=None, metavar="URL", callback=http_url,
              help="The training operator, for PyTorchJob and TFJob trials with --runner local "
                   "(with --runner kubernetes they are created in the cluster).")
@click.option("--trial-log-bytes", type=click.IntRange(min=1024), default=OutputRetention.max_bytes, show_default=True,
              help="The last bytes of each finished trial's output that are kept (served at .../trials/T/logs).")
@click.option("--trial-logs-kept", type=click.IntRange(min=1), default=OutputRetention.kept, show_default=True,
              help="How many finished trials' output is kept; the oldest goes first.")
@click.option("--watch-namespaces", default=None, envvar="MLP_WATCH_NAMESPACES",
              help="Cluster mode: act as the controller of kubeflow.org Experiments in these namespaces "
                   "(comma-separated; '*' for all). Unset: no controller.")
def serve(
    host: str, port: int, db: str, runner: str, state_dir: Path, max_parallel: int, pipelines_url: str | None,
    pipelines_token_file: Path | None, training_url: str | None, trial_log_bytes: int, trial_logs_kept: int,
    max_body_bytes: int, watch_namespaces: str | None, auth_mode: str, auth_tokens: Path | None,
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
        training_url=training_url,
        tuning_url=public_url(host, port),
        retention=OutputRetention(max_bytes=trial_log_bytes, kept=trial_logs_kept),
        max_body_bytes=max_body_bytes,
        watch_namespaces=watch_namespaces,
        auth=auth_from_flags(auth_mode, auth_tokens),
        pipelines_token=pipelines_token(pipelines_token_file),
    )
    run(app, host, port)


def pipelines_token(path: Path | None) -> TokenFile | None:
    """--pipelines-token-file, else the pod's ServiceAccount token when there is one (in a cluster)."""
    if path is not None:
        return TokenFile(path)
    pod_token = TokenFile(POD_TOKEN_PATH)
    return pod_token if pod_token.exists() else None
