"""`mlp hook validate` (the helm test pod) and `mlp validate --local | --release R`."""

from __future__ import annotations

from pathlib import Path

import click

from mlplatform.checks.base import CheckContext
from mlplatform.checks.report import Report
from mlplatform.checks.runner import load_checks, run_checks
from mlplatform.cli.options import absolute_path, output_option, state_dir_option
from mlplatform.errors import ConfigError
from mlplatform.hooks.config import HookConfig, config_options, load_config


def build_context(config: HookConfig, state_dir: Path | None, timeout: float, kubeconfig=None,
                  kube_context=None) -> CheckContext:
    kube = None
    if not config.is_local:
        from mlplatform.kube import api_client

        kube = api_client(kubeconfig, kube_context)
    smoke = dict(config.hook("validate").get("smoke") or {})
    return CheckContext(config=config, kube=kube, state_dir=state_dir if config.is_local else None,
                        timeout=timeout, smoke=smoke)


def validate_config(config: HookConfig, *, state_dir: Path | None, checks: tuple[str, ...] = (),
                    timeout: float = 10.0, smoke: tuple[str, ...] = (), kubeconfig=None, kube_context=None) -> Report:
    context = build_context(config, state_dir, timeout, kubeconfig, kube_context)
    for name in smoke:
        context.smoke[name] = True
    where = "local mode" if config.is_local else f"release {config.release} in namespace {config.namespace}"
    selected = load_checks(checks)
    click.echo(f"running {len(selected)} checks against {where}…", err=True)
    return run_checks(context, selected, title=f"validate: {where}")


def print_report(report: Report, output: str, json_line: bool = False) -> None:
    if output == "json":
        click.echo(report.json())
        return
    click.echo(report.table())
    if json_line:
        click.echo(report.json_line())


_common = [
    click.option("--check", "checks", multiple=True, help="Run only this check (repeatable)."),
    click.option("--smoke", type=click.Choice(["pipeline", "experiment"]), multiple=True,
                 help="Also run this smoke test (repeatable), whatever hooks.validate.smoke says."),
    click.option("--timeout", type=float, default=10.0, show_default=True, help="Seconds per request."),
    output_option(),
]


def common_options(command):
    for option in reversed(_common):
        command = option(command)
    return command


@click.command("validate")
@config_options
@common_options
def validate_hook(config_path, local, state_dir, values_files, checks, smoke, timeout, output):
    """Validate the release from inside it (the `helm test` Job); prints a table and a JSON line."""
    config = load_config(config_path, local, state_dir, values_files)
    report = validate_config(config, state_dir=state_dir, checks=checks, timeout=timeout, smoke=smoke)
    print_report(report, output, json_line=True)
    raise SystemExit(0 if report.ok else 1)


@click.command("validate")
@click.option("--local", is_flag=True, help="Validate local mode (`mlp local up`).")
@state_dir_option()
@click.option("--values", "values_files", type=absolute_path(dir_okay=False), multiple=True,
              help="Values files merged over local mode's release values.")
@click.option("--release", help="Validate a Helm release: runs `helm test` and reports what its validate Job found.")
@click.option("--namespace", "-n", envvar="HELM_NAMESPACE", help="The release's namespace (default: helm's).")
@click.option("--kube-context", envvar="HELM_KUBECONTEXT", help="Kubeconfig context.")
@click.option("--kubeconfig", envvar="KUBECONFIG", help="Kubeconfig file.")
@common_options
def validate(local, state_dir, values_files, release, namespace, kube_context, kubeconfig, checks, smoke, timeout,
             output):
    """Validate a running platform: local mode (--local) or a Helm release (--release R)."""
    if bool(local) == bool(release):
        raise ConfigError("say what to validate: --local (local mode) or --release NAME (a Helm release)")
    if release:
        from mlplatform.release.tests import run_release_tests

        report = run_release_tests(release, namespace=namespace, kube_context=kube_context, kubeconfig=kubeconfig,
                                   timeout=max(timeout * 30, 300))
    else:
        config = HookConfig.local(state_dir, values_files)
        report = validate_config(config, state_dir=state_dir, checks=checks, timeout=timeout, smoke=smoke)
    print_report(report, output)
    raise SystemExit(0 if report.ok else 1)


