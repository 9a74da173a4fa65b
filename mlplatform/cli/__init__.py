"""The `mlp` command line.

Commands load lazily: each one lives in the package of the component it drives, so `mlp --help`
stays fast and a newcomer finds a command's code next to the component. `COMMANDS` is the map, and
`HELP` the line each command and group shows in the listing.

Every command exits with the same codes (mlplatform.errors, docs/contracts.md): 0 ok, 1 failed or
aborted, 2 usage or bad input, 3 a dependency is unreachable.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys

import click

from mlplatform.errors import DependencyError, MlpError

# name -> "module:attribute" of a click command, or a nested map for a group of subcommands.
COMMANDS: dict[str, str | dict[str, str]] = {
    "serve": {
        "pipelines": "mlplatform.pipelines.cli:serve",
        "tuning": "mlplatform.tuning.cli:serve",
        "training": "mlplatform.training.cli:serve",
        "dashboard": "mlplatform.dashboard.cli:serve",
    },
    "hook": {
        "preflight": "mlplatform.hooks.preflight:cli",
        "register": "mlplatform.hooks.register:cli",
        "canary-analysis": "mlplatform.canary.cli:analysis_hook",
        "validate": "mlplatform.checks.cli:validate_hook",
    },
    "canary": "mlplatform.canary.cli:canary",
    "validate": "mlplatform.checks.cli:validate",
    "release": "mlplatform.release.cli:release",
    "model": "mlplatform.serving.cli:model",
    "values": "mlplatform.values.cli:values",
    "local": "mlplatform.local.cli:local",
    "demo": "mlplatform.demo.cli:demo",
    "traffic": "mlplatform.serving.traffic_cli:traffic",
}

HELP = {
    "serve": "Run a platform service (pipeline controller, tuning service).",
    "serve pipelines": "The pipeline controller: the KFP v2beta1 API; runs tasks locally or as Jobs.",
    "serve tuning": "The tuning service: Katib Experiments on Optuna; runs trials locally or as Jobs.",
    "serve training": "The training operator: PyTorchJob and TFJob; replicas as local processes or Jobs.",
    "serve dashboard": "The web UI: runs and their DAGs, experiments, models, rollouts, platform checks.",
    "hook": "Run a Helm hook program (what the chart's hook Jobs run).",
    "hook preflight": "Check the cluster can take the release: version, CRDs, StorageClass, secrets.",
    "hook register": "Create buckets, register models and upload pipelines declared in values.",
    "hook canary-analysis": "Compare canary and stable in Prometheus; fail when the canary is worse.",
    "hook validate": "Validate the release from inside it (what `helm test` runs).",
    "canary": "Canary rollouts: status, rollout, promote, abort.",
    "validate": "Validate a running platform (local mode or a Helm release).",
    "release": "Inspect a Helm release: status, diff, upgrade-check.",
    "model": "Model artifacts for serving.",
    "values": "Render per-environment values and generated chart files.",
    "local": "Run the whole platform as local processes.",
    "demo": "Run the fraud-detection story end to end in local mode.",
    "traffic": "Send inference requests at a steady rate and show success and latency live.",
}
# Libraries whose INFO lines stay off the terminal unless `mlp -v`.
QUIET_LIBRARIES = ("mlflow", "kfp", "alembic", "botocore", "urllib3", "optuna", "httpx")


def _load(target: str) -> click.Command:
    module_name, _, attribute = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name and module_name.startswith(error.name):
            raise MlpError(f"this build has no {module_name} (the command's component is not installed)") from None
        raise
    return getattr(module, attribute)


class LazyGroup(click.Group):
    """A click group whose subcommands are imported only when they run."""

    def __init__(self, *args, targets: dict[str, str | dict], helps: dict[str, str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.targets = targets
        self.helps = helps or {}

    def list_commands(self, ctx):
        return sorted(self.targets)

    def get_command(self, ctx, name):
        target = self.targets.get(name)
        if target is None:
            return None
        if isinstance(target, dict):
            prefix = f"{self.name} " if self.name != "cli" else ""
            helps = {sub: self.helps.get(f"{prefix}{name} {sub}", "") for sub in target}
            return LazyGroup(name=name, targets=target, help=self.helps.get(f"{prefix}{name}"), helps=helps)
        return _load(target)

    def format_commands(self, ctx, formatter):
        # Listing must not import every component: show the static help lines instead.
        rows = [(name, self.helps.get(name, "")) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=LazyGroup, targets=COMMANDS, helps=HELP)
@click.version_option(package_name="mlplatform")
@click.option("-v", "--verbose", is_flag=True, help="Show the libraries' INFO logs (MLflow, kfp, ...).")
def cli(verbose: bool):
    """mlplatform: pipelines, tuning, model registry and canary serving, from one Helm chart suite.

    Exit codes: 0 ok, 1 failed or aborted, 2 usage or bad input, 3 a dependency is unreachable.
    """
    quiet_libraries(verbose)


def quiet_libraries(verbose: bool) -> None:
    """Keep library INFO lines off the terminal (and off the `mlp` commands this one starts)."""
    if verbose:
        os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "INFO")
        return
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")   # mlflow sets its own level when imported
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING)


def _unreachable() -> tuple[type[BaseException], ...]:
    """The connection errors of the HTTP libraries, imported only when something escaped."""
    import requests
    import urllib3

    return (requests.ConnectionError, requests.Timeout, urllib3.exceptions.MaxRetryError,
            urllib3.exceptions.NewConnectionError, ConnectionError)


def _connection_error_line(error: BaseException) -> str:
    reason = getattr(error, "reason", None) or error
    url = getattr(error, "url", None) or getattr(getattr(error, "request", None), "url", None)
    return f"{url}: {reason}" if url else str(reason)


def main(argv: list[str] | None = None) -> None:
    """Entry point of `mlp`: a user-facing error is one line on stderr and a non-zero exit."""
    try:
        cli.main(args=argv, prog_name="mlp", standalone_mode=False)
    except MlpError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(error.exit_code)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(1)
    except _unreachable() as error:   # a connection refused deep in a client library: a dependency is down
        click.echo(f"error: a dependency did not answer: {_connection_error_line(error)}", err=True)
        sys.exit(DependencyError.exit_code)
    except click.ClickException as error:
        error.show()
        sys.exit(error.exit_code)
    except click.exceptions.Exit as exit_:
        sys.exit(exit_.exit_code)
