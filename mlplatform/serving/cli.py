"""`mlp model ...`: model artifacts for serving. `fetch` is what the model-server chart's init containers run."""

from __future__ import annotations

from pathlib import Path

import click

from mlplatform.cli.options import absolute_path
from mlplatform.serving.fetch import DEFAULT_IMPLEMENTATION, SourceAccess, fetch_model


@click.group(help="Model artifacts for serving.")
def model() -> None:
    pass


@model.command(help="Fetch a model (models:/name/version, models:/name@alias or s3://bucket/prefix) into an "
                    "MLServer model directory, with its model-settings.json.")
@click.argument("uri")
@click.option("--dest", required=True, type=absolute_path(file_okay=False),
              help="The model directory to fill (replaced when it exists).")
@click.option("--name", default=None, help="The MLServer model name. Default: the name of --dest.")
@click.option("--implementation", default=DEFAULT_IMPLEMENTATION, show_default=True,
              help="The MLServer runtime class.")
@click.option("--tracking-uri", envvar="MLFLOW_TRACKING_URI", default=None,
              help="The MLflow server that resolves models:/ URIs. Default: $MLFLOW_TRACKING_URI.")
@click.option("--s3-endpoint", envvar="MLP_S3_ENDPOINT", default=None,
              help="The S3 endpoint. Default: $MLP_S3_ENDPOINT; credentials come from AWS_* variables.")
def fetch(uri: str, dest: Path, name: str | None, implementation: str, tracking_uri: str | None,
          s3_endpoint: str | None) -> None:
    access = SourceAccess(tracking_uri=tracking_uri, s3_endpoint=s3_endpoint)
    source = fetch_model(uri, dest, name=name, implementation=implementation, access=access)
    resolved = f" (version {source.version}, {source.location})" if source.version else ""
    click.echo(f"fetched {uri}{resolved} into {dest}")
