"""`mlp values render [--check]`: regenerate (or check) values, Prometheus rules, schemas and README tables."""

from __future__ import annotations

import click

from mlplatform.errors import MlpError
from mlplatform.tools import PROJECT_ROOT
from mlplatform.values import generate


@click.group()
def values():
    """Per-environment values and the chart suite's generated files."""


@values.command()
@click.option("--check", is_flag=True, help="Change nothing; fail naming every out-of-date file.")
def render(check: bool):
    """Render values/*.yaml, the Prometheus rules, values.schema.json files and README tables."""
    click.echo("rendering values, Prometheus rules, schemas and README tables from their sources…", err=True)
    if check:
        stale = generate.out_of_date(PROJECT_ROOT)
        if stale:
            names = ", ".join(str(path.relative_to(PROJECT_ROOT)) for path in stale)
            raise MlpError(f"out of date (run `mlp values render`): {names}")
        click.echo("generated files are up to date")
        return
    written, removed = generate.render(PROJECT_ROOT)
    for path in written:
        click.echo(f"updated {path.relative_to(PROJECT_ROOT)}")
    for path in removed:
        click.echo(f"removed {path.relative_to(PROJECT_ROOT)} (its source is gone)")
    if not written and not removed:
        click.echo("generated files are up to date")
