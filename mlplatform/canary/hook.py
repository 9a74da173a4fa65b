"""`mlp hook canary-analysis`: the post-upgrade hook that fails the upgrade when the canary is worse.

Runs `mlplatform.canary.analysis.analyse` with `modelServer.canary.analysis` against the release's
Prometheus (`services.prometheus` of the hook config, contracts §5; `--local` reads local mode's state
dir instead), writes the JSON report (`--report`), then tags the canary's registry versions with the
outcome (`mlplatform.canary.analysis=passed|failed` and the reason). Only `models:/` URIs are tagged
(an alias is resolved to its version first); s3:// URIs are skipped with a note. The registry is
secondary: when it does not answer, the hook says so, records it in the report, and keeps the
analysis's verdict. Exit codes (mlplatform.errors): 0 passed (or no canary traffic to analyse:
weight 0), 1 the analysis failed, 2 bad values, 3 Prometheus did not answer at all.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import click

from mlplatform.canary.analysis import AnalysisReport, AnalysisSettings, analyse
from mlplatform.cli.options import absolute_path
from mlplatform.errors import ConfigError, DependencyError, MlpError
from mlplatform.hooks.config import HookConfig, config_options, hook_namespace, load_config
from mlplatform.local.model_values import ModelServerValues
from mlplatform.registries import RegistryUnavailable, open_registry, registry_url
from mlplatform.registries.base import ANALYSIS_DETAIL_TAG, ANALYSIS_TAG
from mlplatform.retry import retry

REPORT_FILE = "canary-analysis.json"
DEFAULT_REGISTRY_DEADLINE = 30.0

Echo = Callable[[str], None]


@click.command("canary-analysis")
@config_options
@click.option("--report", "report_path", type=absolute_path(dir_okay=False), default=None,
              help=f"Where to write the JSON report (default: {REPORT_FILE} in the state dir with --local, "
                   "else in the working directory).")
@click.option("--registry-deadline", type=float, default=DEFAULT_REGISTRY_DEADLINE, show_default=True,
              help="Seconds to keep trying the registry when tagging the canary's versions.")
def analysis_hook(config_path, local, state_dir, values_files, report_path, registry_deadline):
    """Compare the canary with the stable track in Prometheus; tag the canary's versions with the outcome."""
    config = load_config(config_path, local, state_dir, values_files)
    report_path = report_path or (Path(state_dir) / REPORT_FILE if local else Path(REPORT_FILE))
    report = run_analysis(config, click.echo)
    if report is None:
        return
    notes = tag_canary_versions(config, report, click.echo, deadline_seconds=registry_deadline)
    write_report(report, notes, report_path, click.echo)
    if report.dependency_failed:
        raise DependencyError(f"canary analysis could not run: {report.checks[-1].reasons[0]}")
    if not report.passed:
        raise MlpError(f"canary analysis failed: {report.reason}")
    click.echo(f"canary analysis passed: {report.reason}")


def run_analysis(config: HookConfig, echo: Echo) -> AnalysisReport | None:
    """The analysis of the release's canary; None when the canary gets no traffic (weight 0)."""
    served = ModelServerValues.from_values(config.values)
    if served.weight == 0:
        echo("the canary gets no traffic (modelServer.canary.weight 0, or the canary is off): nothing to analyse")
        return None
    canary = (config.values.get("modelServer") or {}).get("canary") or {}
    settings = AnalysisSettings.from_values(canary.get("analysis"))
    if not config.endpoints.has("prometheus"):
        raise ConfigError("the canary analysis needs Prometheus, and this release has none: enable prometheus "
                          "or set hooks.canaryAnalysis.enabled=false")
    selector = {} if config.is_local else {"namespace": hook_namespace(config)}
    return analyse(config.endpoints.url("prometheus"), settings, selector=selector, progress=echo)


def tag_canary_versions(config: HookConfig, report: AnalysisReport, echo: Echo,
                        deadline_seconds: float = DEFAULT_REGISTRY_DEADLINE) -> list[str]:
    """Tag each `models:/` URI the canary serves with the outcome; returns the notes (skips, failures)."""
    uris = [model.uri for model in ModelServerValues.from_values(config.values).track_models("canary")]
    notes = [f"{uri}: not a registry version, not tagged" for uri in uris if not uri.startswith("models:/")]
    for note in notes:
        echo(f"registry: {note}")
    registered = [uri for uri in uris if uri.startswith("models:/")]
    if not registered:
        return notes
    tags = {ANALYSIS_TAG: "passed" if report.passed else "failed", ANALYSIS_DETAIL_TAG: report.reason}
    try:
        settings = config.hook("register")
        registry = open_registry(settings.get("registry"), registry_url(config.endpoints, settings), settings)
    except MlpError as error:
        return notes + _registry_failed(echo, f"cannot open the registry: {error}")
    for uri in registered:
        try:
            notes.append(retry(lambda uri=uri: _tag(registry, uri, tags), what=uri,
                               deadline_seconds=deadline_seconds, retry_on=(RegistryUnavailable,)))
            echo(f"registry: {notes[-1]}")
        except MlpError as error:
            notes += _registry_failed(echo, str(error) if str(error).startswith(uri) else f"{uri}: {error}")
    return notes


def _tag(registry, uri: str, tags: dict[str, str]) -> str:
    info = registry.resolve(uri)
    registry.tag_version(info.model, info.version, tags)
    return f"{info.uri} tagged {ANALYSIS_TAG}={tags[ANALYSIS_TAG]}" + (f" (from {uri})" if info.uri != uri else "")


def _registry_failed(echo: Echo, note: str) -> list[str]:
    echo(f"warning: registry: {note} (the analysis's verdict stands)")
    return [f"not tagged: {note}"]


def write_report(report: AnalysisReport, registry_notes: list[str], path: Path, echo: Echo) -> None:
    """The analysis report, plus what happened in the registry. A report that cannot be written is a
    warning: the verdict (the exit code and the log) stands."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({**report.to_dict(), "registry": registry_notes}, indent=2) + "\n")
    except OSError as error:
        echo(f"warning: cannot write the report to {path}: {error.strerror}")
        return
    echo(f"report: {path}")
