"""`mlp release status|diff|upgrade-check` (also `helm mlp status|diff|upgrade-check`)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from mlplatform.checks.report import Report
from mlplatform.cli.options import absolute_path, output_option
from mlplatform.release.helm import ReleaseContext, chart_path, proposed_values, staging_dir


def release_options(command):
    """The release and its cluster; the environment variables are the ones Helm gives its plugins."""
    for option in reversed([
        click.argument("release"),
        click.option("--namespace", "-n", envvar="HELM_NAMESPACE", help="The release's namespace."),
        click.option("--kube-context", envvar="HELM_KUBECONTEXT", help="Kubeconfig context."),
        click.option("--kubeconfig", envvar="KUBECONFIG", help="Kubeconfig file."),
    ]):
        command = option(command)
    return command


def proposal_options(command):
    """What the upgrade would be: a chart and values, as `helm upgrade` takes them."""
    for option in reversed([
        click.argument("chart", required=False),
        click.option("--values", "-f", "values_files", type=absolute_path(exists=True, dir_okay=False), multiple=True,
                     help="Values files (repeatable), merged over the release's current values."),
        click.option("--set", "set_values", multiple=True, help="key.path=value overrides (repeatable)."),
        click.option("--reset-values", is_flag=True, help="Start from the chart's defaults, not the release's values."),
    ]):
        command = option(command)
    return command


def _context(release, namespace, kube_context, kubeconfig) -> ReleaseContext:
    return ReleaseContext(release, namespace, kube_context, kubeconfig)


@click.group("release")
def release():
    """Inspect a Helm release of the platform."""


@release.command("status")
@release_options
@output_option()
def status(release, namespace, kube_context, kubeconfig, output):
    """Components and their readiness, served model versions, canary weight."""
    from mlplatform.kube import api_client
    from mlplatform.release.status import format_status, release_status

    context = _context(release, namespace, kube_context, kubeconfig)
    result = release_status(context, api_client(kubeconfig, kube_context))
    click.echo(json.dumps(result, indent=2) if output == "json" else format_status(result))
    raise SystemExit(0 if all(component["ready"] for component in result["components"]) else 1)


@release.command("diff")
@release_options
@proposal_options
@click.option("--context", "context_lines", type=int, default=3, show_default=True, help="Lines of context.")
def diff(release, namespace, kube_context, kubeconfig, chart, values_files, set_values, reset_values, context_lines):
    """The release's manifests against what the proposed chart and values would render, as a diff."""
    from mlplatform.release.manifests import diff_objects

    context = _context(release, namespace, kube_context, kubeconfig)
    values = proposed_values(context, values_files, set_values, reset_values)
    current = context.manifest()
    with staging_dir() as workdir:
        proposed = context.render_upgrade(chart_path(chart, Path(workdir)), values)
    changes = diff_objects(current, proposed, namespace or "", context_lines)
    if not changes:
        click.echo(f"release {release}: no changes")
        return
    for change in changes:
        click.echo(f"# {change.key}: {change.change}")
        click.echo(change.diff, nl=False)
    summary = {kind: sum(c.change == kind for c in changes) for kind in ("added", "changed", "removed")}
    click.echo(f"release {release}: " + ", ".join(f"{count} {kind}" for kind, count in summary.items() if count)
               + " (Secret values hidden)")


@release.command("upgrade-check")
@release_options
@proposal_options
@click.option("--kube-version", help="The Kubernetes version to check against (default: the cluster's).")
@output_option()
def upgrade_check(release, namespace, kube_context, kubeconfig, chart, values_files, set_values, reset_values,
                  kube_version, output):
    """Immutable-field changes and APIs the target Kubernetes version removed, before you upgrade."""
    import time

    from mlplatform.release.upgrade_check import upgrade_findings

    started = time.monotonic()
    context = _context(release, namespace, kube_context, kubeconfig)
    values = proposed_values(context, values_files, set_values, reset_values)
    current = context.manifest()
    with staging_dir() as workdir:
        chart_dir = chart_path(chart, Path(workdir))
        if kube_version:
            proposed = context.render_for_version(chart_dir, values, kube_version)
        else:
            kube_version = cluster_version(kubeconfig, kube_context)
            proposed = context.render_upgrade(chart_dir, values)
    report = Report(title=f"upgrade-check: release {release} for Kubernetes {kube_version}",
                    results=upgrade_findings(current, proposed, kube_version, namespace or ""),
                    seconds=time.monotonic() - started)
    click.echo(report.json() if output == "json" else report.table())
    raise SystemExit(0 if report.ok else 1)


def cluster_version(kubeconfig: str | None, kube_context: str | None) -> str:
    from kubernetes import client

    from mlplatform.kube import api_client

    info = client.VersionApi(api_client(kubeconfig, kube_context)).get_code()
    return f"{info.major}.{''.join(ch for ch in info.minor if ch.isdigit())}"
