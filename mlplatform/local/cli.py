"""`mlp local up|down|status|apply`: the whole platform as local processes."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

from mlplatform.cli.options import absolute_path
from mlplatform.cli.options import state_dir_option as _state_dir_option
from mlplatform.local.components import COMPONENT_NAMES

state_dir_option = _state_dir_option(
    help="Where local mode keeps endpoints.json, processes.json, values.yaml, logs and data.")


def _components(ctx, param, value: str | None) -> tuple[str, ...]:
    if not value:
        return COMPONENT_NAMES
    names = tuple(name.strip() for name in value.split(",") if name.strip())
    unknown = sorted(set(names) - set(COMPONENT_NAMES))
    if unknown:
        raise click.BadParameter(f"unknown {', '.join(unknown)}; choose from {', '.join(COMPONENT_NAMES)}")
    return names


def _token_file(mode: str, tokens: Path | None) -> Path | None:
    """The token file of token mode, read once here so that a bad one is exit 2 before anything starts."""
    from mlplatform.service import auth_from_flags

    if mode == "none":
        if tokens:
            raise click.UsageError("--auth-tokens needs --auth-mode token")
        return None
    auth_from_flags(mode, tokens)
    return tokens


def _read_values(path: Path | None) -> dict:
    from mlplatform.hooks.config import read_values

    return read_values(path) if path else {}


@click.group(help="Run the whole platform as local processes.")
def local() -> None:
    pass


@local.command(help="Start the platform: every process on a free port, each waited for until healthy.")
@state_dir_option
@click.option("--components", callback=_components, default=None, metavar="LIST",
              help=f"Comma-separated components to start (with what they need). Default: all of "
                   f"{', '.join(COMPONENT_NAMES)}.")
@click.option("--scrape-interval", type=click.FloatRange(min=0.1), default=5.0, show_default=True,
              help="Prometheus scrape and rule evaluation interval, in seconds.")
@click.option("--values", "values_file", type=absolute_path(dir_okay=False, exists=True),
              help="Initial release values (the modelServer shape): models to serve, canary weight.")
@click.option("--timeout", type=click.FloatRange(min=1), default=180.0, show_default=True,
              help="Seconds each process gets to become healthy.")
@click.option("--auth-mode", type=click.Choice(["none", "token"]), default="none", show_default=True,
              help="'token': the pipeline controller and the tuning service answer only requests with a bearer "
                   "token of --auth-tokens, in its namespaces (docs/security.md); 'none': open.")
@click.option("--auth-tokens", type=absolute_path(dir_okay=False, exists=True), default=None,
              help="Token mode: a CSV of token,user,namespace[;namespace...].")
def up(state_dir: Path, components: tuple[str, ...], scrape_interval: float, values_file: Path | None,
       timeout: float, auth_mode: str, auth_tokens: Path | None) -> None:
    from mlplatform.local.platform import UpOptions
    from mlplatform.local.platform import up as start

    began = time.monotonic()
    options = UpOptions(components=components, scrape_interval=scrape_interval, values=_read_values(values_file),
                        timeout=timeout, auth_tokens=_token_file(auth_mode, auth_tokens))
    endpoints = start(state_dir, options, report=lambda line: click.echo(f"  {line}"))
    click.echo(f"local platform up in {time.monotonic() - began:.1f}s; endpoints in {state_dir / 'endpoints.json'}")
    for name, url in sorted(endpoints.services.items()):
        click.echo(f"  {name:<22} {url}")
    if "kubeconfig" in endpoints.extra:
        click.echo(f"  kubeconfig for Kubeflow's SDKs (Katib, Training) and kubectl: {endpoints.extra['kubeconfig']}")


@local.command(help="Stop every process of the platform (SIGTERM, then SIGKILL after --grace seconds).")
@state_dir_option
@click.option("--grace", type=click.FloatRange(min=0), default=10.0, show_default=True,
              help="Seconds to wait after SIGTERM before SIGKILL.")
def down(state_dir: Path, grace: float) -> None:
    from mlplatform.local.platform import down as stop

    killed = stop(state_dir, grace=grace, report=click.echo)
    note = f" ({len(killed)} needed SIGKILL)" if killed else ""
    click.echo(f"local platform in {state_dir} stopped{note}")


@local.command(help="Show every process of the platform and its health; exit 1 unless all are healthy.")
@state_dir_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def status(state_dir: Path, as_json: bool) -> None:
    from mlplatform.local.platform import status as probe

    statuses = probe(state_dir)
    if as_json:
        click.echo(json.dumps([{**vars(entry), "healthy": entry.healthy} for entry in statuses], indent=2))
    else:
        for entry in statuses:
            click.echo(f"{entry.name:<22} {entry.pid or '-':>7}  {entry.state:<11} {entry.detail}")
    running = [entry for entry in statuses if entry.state != "not started"]
    sys.exit(0 if running and all(entry.healthy for entry in running) else 1)


@local.command(help="Apply model-server values (models per track, canary weight) to the running platform, "
                    "as `helm upgrade` does in a cluster; records them in values.yaml.")
@state_dir_option
@click.option("--values", "values_file", required=True, type=absolute_path(dir_okay=False, exists=True),
              help="The release values to apply (the modelServer shape).")
def apply(state_dir: Path, values_file: Path) -> None:
    from mlplatform.local.model_values import apply_model_server_values
    from mlplatform.local.platform import local_values

    values = local_values(_read_values(values_file))
    applied = apply_model_server_values(state_dir, values, report=lambda line: click.echo(f"  {line}"))
    click.echo(f"applied: canary weight {applied.weight}, stable serves {len(applied.models)} model(s), "
               f"canary {len(applied.track_models('canary'))}")
