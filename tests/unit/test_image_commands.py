"""Every command the charts run exists in the platform image (contracts §2, §3).

Each chart is rendered with each of its value sets (RENDER_CASES). Every container and init container
on the platform image runs `mlp`, `mlserver` or `mlflow`: the subcommand must resolve through the real
click CLI and the chart's flags must parse, the console script must be installed, and its distribution
must be one that the Dockerfile's `pip install` pulls in.
"""

from __future__ import annotations

import importlib
import re
import sys
from functools import cache
from importlib import metadata
from pathlib import Path

import click
import pytest
import yaml
from click.testing import CliRunner
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from mlplatform.errors import MlpError
from mlplatform.runners.kubernetes import LAUNCHER
from tests.support.chart_fixtures import RENDER_CASES

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
PLATFORM_IMAGE = "mlplatform/mlplatform"
UPSTREAM_IMAGES = ("minio/minio", "prometheus/prometheus")
# The click object behind each console script the charts run (mlserver's script wraps its group).
CLICK_ROOTS = {"mlp": "mlplatform.cli:cli", "mlserver": "mlserver.cli.main:root", "mlflow": "mlflow.cli:cli"}


def pod_specs(obj: dict) -> list[dict]:
    spec = obj.get("spec", {})
    if obj.get("kind") == "Pod":
        return [spec]
    if obj.get("kind") == "CronJob":
        spec = spec.get("jobTemplate", {}).get("spec", {})
    template = spec.get("template", {}).get("spec")
    return [template] if template else []


def containers(objects: list[dict]) -> list[tuple[str, dict]]:
    """(kind/name/container, container) for every container and init container of every workload."""
    return [(f"{obj['kind']}/{obj['metadata']['name']}/{container['name']}", container)
            for obj in objects for spec in pod_specs(obj)
            for container in [*spec.get("initContainers", []), *spec.get("containers", [])]]


def repository(image: str) -> str:
    """The image without its tag or digest (a registry's port stays)."""
    name = image.split("@", 1)[0]
    return name.rsplit(":", 1)[0] if ":" in name.rsplit("/", 1)[-1] else name


def argv(container: dict) -> list[str]:
    return [str(part) for part in [*container.get("command", []), *container.get("args", [])]]


def _load(target: str):
    module, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module), attribute)


@cache
def command_problem(command_line: tuple[str, ...]) -> str | None:
    """Why the image cannot run this command line, or None when it can."""
    program, *args = command_line
    if program not in CLICK_ROOTS:
        return f"{program!r} is not a program of the platform image (known: {', '.join(CLICK_ROOTS)})"
    if not (Path(sys.executable).parent / program).exists():
        return f"console script {program} is not installed in {Path(sys.executable).parent}"
    command: click.Command = _load(CLICK_ROOTS[program])
    path = [program]
    while isinstance(command, click.Group) and args and not args[0].startswith("-"):
        try:
            sub = command.get_command(click.Context(command, info_name=" ".join(path)), args[0])
        except (MlpError, ImportError, AttributeError) as error:
            return f"`{' '.join([*path, args[0]])}` does not load: {error}"
        if sub is None:
            return f"`{' '.join(path)}` has no subcommand {args[0]!r}"
        command, path, args = sub, [*path, args[0]], args[1:]
    if isinstance(command, click.Group):
        return f"`{' '.join(path)}` is a group: the chart names no subcommand"
    try:
        # Parses and converts every option and argument, as a run would, without invoking the command.
        command.make_context(" ".join(path), list(args))
    except click.ClickException as error:
        return f"`{' '.join(path)}` refuses the chart's arguments: {error.format_message()}"
    return None


def platform_commands(objects: list[dict]) -> list[tuple[str, tuple[str, ...]]]:
    return [(where, tuple(argv(container))) for where, container in containers(objects)
            if repository(container["image"]).endswith(PLATFORM_IMAGE)]


# ---- the rendered charts

@pytest.mark.parametrize("case", RENDER_CASES, ids=[case.id for case in RENDER_CASES])
def test_every_chart_command_exists_in_the_image(chart_suite, case):
    objects = chart_suite.objects(case.render)
    problems = [f"{where}: {' '.join(line)}\n    {problem}"
                for where, line in platform_commands(objects) if (problem := command_problem(line))]
    assert not problems, "commands the image cannot run:\n" + "\n".join(problems)


@pytest.mark.parametrize("case", RENDER_CASES, ids=[case.id for case in RENDER_CASES])
def test_every_container_runs_a_known_image(chart_suite, case):
    known = (PLATFORM_IMAGE, *UPSTREAM_IMAGES)
    unknown = [f"{where}: {container['image']}" for where, container in containers(chart_suite.objects(case.render))
               if not repository(container["image"]).endswith(known)]
    assert not unknown, f"containers on images other than {known}: {unknown}"


def test_the_matrix_covers_every_contract_command(chart_suite):
    """The contract's commands all appear in some render, so the test above checks each of them."""
    seen = {line[:3] for case in RENDER_CASES for _, line in platform_commands(chart_suite.objects(case.render))}
    expected = {("mlp", "serve", "pipelines"), ("mlp", "serve", "tuning"), ("mlp", "model", "fetch"),
                ("mlserver", "start", "/mnt/models"), ("mlflow", "server", "--host"),
                *(("mlp", "hook", hook) for hook in ("preflight", "register", "canary-analysis", "validate"))}
    assert expected <= seen, f"no render runs {sorted(expected - seen)}"


# ---- the checker refuses what the image cannot run

@pytest.mark.parametrize("line, refusal", [
    (("mlp", "serve", "notebooks"), "has no subcommand 'notebooks'"),
    (("mlp", "hook", "preflight", "--no-such-flag"), "No such option"),
    (("mlp", "serve", "pipelines", "--runner", "slurm"), "refuses"),
    (("mlp", "hook"), "is a group"),
    (("mlflow", "server", "--backend-store", "sqlite://"), "No such option"),
    (("mlserver", "serve", "/mnt/models"), "has no subcommand 'serve'"),
    (("jupyter", "lab"), "not a program of the platform image"),
])
def test_a_command_the_image_cannot_run_is_refused(line, refusal):
    assert refusal in (command_problem(line) or "accepted")


@pytest.mark.parametrize("line", [
    ("mlp", "serve", "pipelines", "--help"),
    ("mlp", "hook", "register", "--help"),
    ("mlp", "model", "fetch", "--help"),
])
def test_mlp_help_runs(line):
    result = CliRunner().invoke(_load(CLICK_ROOTS["mlp"]), list(line[1:]))
    assert result.exit_code == 0, result.output
    assert line[2] in result.output or "Usage" in result.output


def test_mlflow_server_accepts_the_registry_flags():
    result = CliRunner().invoke(_load(CLICK_ROOTS["mlflow"]), ["server", "--help"])
    assert result.exit_code == 0, result.output
    for flag in ("--backend-store-uri", "--artifacts-destination", "--serve-artifacts", "--expose-prometheus"):
        assert flag in result.output


def test_the_task_launcher_module_exists():
    """Pipeline task Jobs run `python -m mlplatform.pipelines.launcher` in the same image."""
    assert LAUNCHER[:2] == ["python", "-m"]
    assert importlib.util.find_spec(LAUNCHER[2]) is not None


# ---- the Dockerfile installs what provides the commands

def dockerfile_instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line.strip() else "")
            for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def installed_extras() -> set[str]:
    """The extras of the project that the Dockerfile's `pip install` of the source tree names."""
    extras = set()
    for instruction, rest in dockerfile_instructions():
        if instruction == "RUN" and "pip install" in rest:
            for match in re.finditer(r"""["']?\.\[([\w,\s-]+)\]["']?""", rest):
                extras |= {extra.strip() for extra in match.group(1).split(",")}
    return extras


def image_distributions(extras: set[str]) -> set[str]:
    """mlplatform plus the requirements of its core and of `extras`, as pip would install them."""
    names = {"mlplatform"}
    for line in metadata.requires("mlplatform") or []:
        requirement = Requirement(line)
        marker = requirement.marker
        if marker is None or any(marker.evaluate({"extra": extra}) for extra in extras):
            names.add(canonicalize_name(requirement.name))
    return names


def test_the_dockerfile_installs_the_server_extra():
    assert "server" in installed_extras(), "the Dockerfile must `pip install \".[server]\"`"


@pytest.mark.parametrize("program", sorted(CLICK_ROOTS))
def test_the_image_installs_the_distribution_of_each_program(program):
    providers = {canonicalize_name(entry.dist.name) for entry in metadata.entry_points(group="console_scripts", name=program)}
    assert providers, f"no installed distribution provides the console script {program}"
    assert providers & image_distributions(installed_extras()), \
        f"{program} comes from {sorted(providers)}, none of which the Dockerfile installs (extras {installed_extras()})"


def test_the_image_user_is_the_numeric_user_the_charts_run_as():
    args = dict(rest.split("=", 1) for instruction, rest in dockerfile_instructions()
                if instruction == "ARG" and "=" in rest)
    user = next(rest for instruction, rest in reversed(dockerfile_instructions()) if instruction == "USER")
    uid = re.sub(r"\$\{(\w+)\}", lambda match: args[match.group(1)], user).split(":")[0]
    assert uid.isdigit() and int(uid) != 0, f"USER {user}: runAsNonRoot needs a numeric, non-root user"
    for chart in ("pipeline-controller", "tuning-service", "model-server", "model-registry"):
        values = yaml.safe_load((ROOT / "charts" / chart / "values.yaml").read_text())
        assert values["podSecurityContext"]["runAsUser"] == int(uid), chart
