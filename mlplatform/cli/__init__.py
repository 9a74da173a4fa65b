"""The `mlp` command line.

Commands load lazily: each one lives in the package of the component it drives, so `mlp --help`
stays fast and a newcomer finds a command's code next to the component. `COMMANDS` is the map.
"""

from __future__ import annotations

import importlib
import sys

import click

from mlplatform.errors import MlpError

# name -> "module:attribute" of a click command, or a nested map for a group of subcommands.
COMMANDS: dict[str, str | dict[str, str]] = {
    "serve": {
        "pipelines": "mlplatform.pipelines.cli:serve",
        "tuning": "mlplatform.tuning.cli:serve",
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
}

HELP = {
    "serve": "Run a platform service (pipeline controller, tuning service).",
    "hook": "Run a Helm hook program (what the chart's hook Jobs run).",
    "canary": "Canary rollouts: status, rollout, promote, abort.",
    "validate": "Validate a running platform (local mode or a Helm release).",
    "release": "Inspect a Helm release: status, diff, upgrade-check.",
    "model": "Model artifacts for serving.",
    "values": "Render per-environment values and generated chart files.",
    "local": "Run the whole platform as local processes.",
    "demo": "Run the fraud-detection story end to end in local mode.",
}


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
            return LazyGroup(name=name, targets=target, help=self.helps.get(name))
        return _load(target)

    def format_commands(self, ctx, formatter):
        # Listing must not import every component: show the static help lines instead.
        rows = [(name, self.helps.get(name, "")) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=LazyGroup, targets=COMMANDS, helps=HELP)
@click.version_option(package_name="mlplatform")
def cli():
    """mlplatform: pipelines, tuning, model registry and canary serving, from one Helm chart suite."""


def main(argv: list[str] | None = None) -> None:
    """Entry point of `mlp`: a user-facing error is one line on stderr and a non-zero exit."""
    try:
        cli.main(args=argv, prog_name="mlp", standalone_mode=False)
    except MlpError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(error.exit_code)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as error:
        error.show()
        sys.exit(error.exit_code)
    except click.exceptions.Exit as exit_:
        sys.exit(exit_.exit_code)
