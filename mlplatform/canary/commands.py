"""`mlp canary status|rollout|promote|abort` (also `helm mlp canary ...`), for a Helm release or local mode.

    mlp canary rollout --release mlp --version 3 --steps 10,25,50,100 -n mlplatform
    mlp canary rollout --local --state-dir .mlplatform --version models:/fraud@challenger --steps 25,50,100
    mlp canary status mlp            (the release may also be given as the argument, as `helm mlp` does)

Exit codes (mlplatform.errors): 0 done, 1 the rollout aborted, 2 bad input (steps, version, unknown
release), 3 a dependency (helm, the cluster, local mode, Prometheus) did not answer.
"""

from __future__ import annotations

import json
from contextlib import ExitStack
from pathlib import Path

import click

from mlplatform.canary.plan import abort_values, canary_section, parse_steps, promote_values, stable_models
from mlplatform.cli.options import absolute_path, output_option, state_dir_option
from mlplatform.errors import ConfigError, MlpError

DEFAULT_STEPS = "10,25,50,100"
DEFAULT_TIMEOUT = "15m"
REVISIONS_SHOWN = 10


def target_options(command):
    """Where the canary runs: a release (Helm's plugin variables fill the cluster context) or local mode."""
    for option in reversed([
        click.argument("release_argument", metavar="[RELEASE]", required=False),
        click.option("--release", help="The Helm release (or give it as the argument)."),
        click.option("--namespace", "-n", envvar="HELM_NAMESPACE", help="The release's namespace."),
        click.option("--kube-context", envvar="HELM_KUBECONTEXT", help="Kubeconfig context."),
        click.option("--kubeconfig", envvar="KUBECONFIG", help="Kubeconfig file."),
        click.option("--chart", help="The chart to upgrade with (default: this project's charts/mlplatform)."),
        click.option("--values", "-f", "values_files", type=absolute_path(exists=True, dir_okay=False), multiple=True,
                     help="Values files merged over the release's current values (repeatable)."),
        click.option("--timeout", default=DEFAULT_TIMEOUT, show_default=True,
                     help="helm upgrade --timeout of each step (the analysis hook runs inside it)."),
        click.option("--local", is_flag=True, help="Local mode (`mlp local up`) instead of a release."),
        state_dir_option(help="Local mode's state directory; also where a release's rollout reports go."),
        click.option("--report", "report_path", type=absolute_path(dir_okay=False),
                     help="The rollout report (JSON); default <state-dir>/canary/rollout.json locally, "
                          ".mlplatform/canary/<namespace>.<release>.json for a release."),
    ]):
        command = option(command)
    return command


def open_target(stack: ExitStack, options: dict):
    """The ReleaseTarget or LocalTarget the options name."""
    release = options["release"] or options["release_argument"]
    if options["local"]:
        if release:
            raise ConfigError("give either a release or --local, not both")
        from mlplatform.canary.local import LocalTarget

        return LocalTarget(options["state_dir"], options["values_files"])
    if not release:
        raise ConfigError("name the release (--release NAME) or use --local for local mode")
    from mlplatform.canary.release import ReleaseTarget
    from mlplatform.release.helm import ReleaseContext, chart_path, staging_dir

    context = ReleaseContext(release, options["namespace"], options["kube_context"], options["kubeconfig"])
    chart = chart_path(options["chart"], Path(stack.enter_context(staging_dir())))
    return ReleaseTarget(context, chart, options["values_files"], options["timeout"])


def report_path(options: dict) -> Path:
    if options["report_path"]:
        return options["report_path"]
    if options["local"]:
        return Path(options["state_dir"]) / "canary" / "rollout.json"
    release = options["release"] or options["release_argument"]
    return Path(options["state_dir"]) / "canary" / f"{options['namespace'] or 'default'}.{release}.json"


@click.group("canary")
def canary():
    """Canary rollouts: status, rollout, promote, abort."""


@canary.command("rollout")
@target_options
@click.option("--version", "version", required=True,
              help="The new model: a URI (models:/fraud/3, models:/fraud@challenger, s3://...) or a version number.")
@click.option("--model", help="The served model to replace (default: the stable track's only model).")
@click.option("--implementation", help="The MLServer runtime of the new model (default: the stable model's).")
@click.option("--steps", default=DEFAULT_STEPS, show_default=True, help="Canary weights in percent, increasing.")
def rollout(version, model, implementation, steps, **options):
    """Shift traffic to a new model step by step, each step gated by the canary analysis; then promote."""
    from mlplatform.canary.plan import RolloutPlan
    from mlplatform.canary.rollout import HOLDING, PROMOTED, RolloutAborted, run_rollout

    weights = parse_steps(steps)
    with ExitStack() as stack:
        target = open_target(stack, options)
        plan = RolloutPlan.build(target.values(), version, model, weights, current=target.current(),
                                 implementation=implementation)
        click.echo(f"rollout of {plan.model}: {plan.uri} on {target.name}, steps {', '.join(map(str, weights))}%")
        try:
            report = run_rollout(target, plan, progress=click.echo)
        except MlpError as error:
            _write_partial(error, report_path(options))
            raise
    written = report.write(report_path(options))
    click.echo(report.summary())
    click.echo(f"report: {written}")
    if report.outcome not in (PROMOTED, HOLDING):
        raise RolloutAborted(f"rollout aborted, traffic back to stable: {report.reason}")


def _write_partial(error: MlpError, path: Path) -> None:
    report = getattr(error, "report", None)
    if report is not None:
        click.echo(f"report: {report.write(path)}", err=True)


@canary.command("status")
@target_options
@output_option()
def status(output, **options):
    """The live canary weight (from the router), the stable and canary models, the last rollout."""
    with ExitStack() as stack:
        target = open_target(stack, options)
        result = canary_status(target, report_path(options))
    click.echo(json.dumps(result, indent=2) if output == "json" else format_status(result))


@canary.command("promote")
@target_options
def promote(**options):
    """Make the canary's models the stable ones; canary off, weight 0."""
    with ExitStack() as stack:
        click.echo(promote_target(open_target(stack, options), report_path(options), click.echo))


def promote_target(target, report_file: Path, progress=click.echo, by: str = "`mlp canary promote`") -> str:
    """Promote on the target (the CLI and the dashboard's button); returns the line that says what serves now."""
    values = promote_values(target.values(), target.current())
    revision = target.apply(values, "promote", progress)
    names = ", ".join(f"{m['name']} {m['uri']}" for m in stable_models(values))
    _end_held_rollout(report_file, "promoted", f"promoted by {by}: stable serves {names}")
    return f"promoted on {target.name}: the stable track serves {names}" + _revision(revision)


@canary.command("abort")
@target_options
def abort(**options):
    """Send all traffic back to stable: canary off, weight 0, canary models removed."""
    with ExitStack() as stack:
        click.echo(abort_target(open_target(stack, options), report_path(options), click.echo))


def abort_target(target, report_file: Path, progress=click.echo, by: str = "`mlp canary abort`") -> str:
    """Abort on the target (the CLI and the dashboard's button); returns the line that says so."""
    revision = target.apply(abort_values(target.values()), "abort", progress)
    _end_held_rollout(report_file, "aborted", f"aborted by {by}: all traffic to stable")
    return f"aborted on {target.name}: all traffic to stable" + _revision(revision)


def _end_held_rollout(path: Path, outcome: str, reason: str) -> None:
    """A rollout that held at its last step ends with this promote or abort: its report says so."""
    from mlplatform.canary.rollout import HOLDING

    if not path.exists():
        return
    report = json.loads(path.read_text())
    if report.get("outcome") == HOLDING:
        report.update(outcome=outcome, reason=reason)
        path.write_text(json.dumps(report, indent=2) + "\n")


def _revision(revision: int | None) -> str:
    return f" (revision {revision})" if revision else ""


def canary_status(target, report_file: Path) -> dict:
    values = target.current()
    canary_values = canary_section(values)
    try:
        live, live_error = target.weight(), None
    except MlpError as error:
        live, live_error = None, str(error)
    last = json.loads(report_file.read_text()) if report_file.exists() else None
    return {"target": target.name, "weight": live, "weight_error": live_error, "revisions": target.revisions(),
            "canary": {"enabled": bool(canary_values.get("enabled")), "weight": canary_values.get("weight", 0),
                       "models": canary_values.get("models") or []},
            "stable": {"models": stable_models(values)},
            "last_rollout": last, "last_rollout_file": str(report_file) if last else None}


def format_status(result: dict) -> str:
    live = f"{result['weight']}%" if result["weight"] is not None else f"unknown ({result['weight_error']})"
    canary = result["canary"]
    lines = [f"{result['target']}", f"  live canary weight: {live}",
             f"  stable: {_models(result['stable']['models'])}",
             f"  canary: {'enabled' if canary['enabled'] else 'disabled'}, weight {canary['weight']}% in values, "
             + _models(canary["models"])]
    if result["revisions"]:
        lines.append("  release revisions:")
        lines += [f"    {r['revision']} {r['status']}: {r['description']}" for r in result["revisions"][-REVISIONS_SHOWN:]]
    last = result["last_rollout"]
    if last:
        lines.append(f"  last rollout: {last['outcome']} ({last['uri']}): {last['reason']}")
        lines += [f"    step {s['step']} weight {s['weight']}%: {'passed' if s['passed'] else 'failed'}: {s['reason']}"
                  for s in last["results"]]
        lines.append(f"    report: {result['last_rollout_file']}")
    return "\n".join(lines)


def _models(models: list[dict]) -> str:
    return ", ".join(f"{m.get('name')} {m.get('uri')}" for m in models) or "none"
