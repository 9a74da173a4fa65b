#!/usr/bin/env python3
"""`make lint`: what `ct lint --config ci/ct.yaml --all` does, with the project's own tools.

For every chart under the ct.yaml chart-dirs:
  - the version bump: a chart that changed since the base ref must raise its version;
  - Chart.yaml against ci/chart_schema.yaml (yamale);
  - Chart.yaml, values.yaml and ci/*.yaml against ci/lintconf.yaml (yamllint), and values/*.yaml;
  - `helm lint --strict` with each ci/*-values.yaml (the umbrella also with values/<env>.yaml),
    on helm 3 and helm 4, with the file:// dependencies built in a staged copy.
The base ref is LINT_BASE_REF, else <remote>/<target-branch> of ct.yaml (origin/main) when it
exists; without one the version check is skipped, and the output says why.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import yamale
import yaml
from packaging.version import InvalidVersion, Version
from yamllint import linter
from yamllint.config import YamlLintConfig

from mlplatform.tools import helm_binary
from mlplatform.values import charts


def git(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=cwd, check=False, capture_output=True, text=True)


def base_ref(config: dict, cwd: Path = ROOT) -> tuple[str | None, str]:
    """(the ref to compare with, or None; why)."""
    requested = os.environ.get("LINT_BASE_REF")
    default = f"{config.get('remote', 'origin')}/{config.get('target-branch', 'main')}"
    ref = requested or default
    if git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", cwd=cwd).returncode == 0:
        return ref, f"against {ref}"
    if requested:
        raise SystemExit(f"lint: LINT_BASE_REF={requested} is not a commit in this repository")
    return None, f"no LINT_BASE_REF and no {default} to compare with (set LINT_BASE_REF=<ref> to check)"


def version_problems(chart_dir: Path, ref: str, repo: Path = ROOT) -> list[str]:
    """A chart that changed since `ref` must carry a higher version than it had there."""
    relative = chart_dir.relative_to(repo).as_posix()
    changed = git("diff", "--quiet", ref, "--", relative, cwd=repo).returncode != 0
    untracked = git("ls-files", "--others", "--exclude-standard", "--", relative, cwd=repo).stdout.strip()
    if not (changed or untracked):
        return []
    before = git("show", f"{ref}:{relative}/Chart.yaml", cwd=repo)
    if before.returncode != 0:
        return []  # a new chart
    old = str(yaml.safe_load(before.stdout)["version"])
    new = str(yaml.safe_load((chart_dir / "Chart.yaml").read_text())["version"])
    try:
        bumped = Version(new) > Version(old)
    except InvalidVersion as error:
        return [f"{relative}/Chart.yaml: {error}"]
    return [] if bumped else [f"{relative} changed since {ref} but its version {new} is not above {old}: bump it"]


def chart_yaml_problems(chart_dir: Path, schema_path: Path) -> list[str]:
    schema = yamale.make_schema(str(schema_path))
    try:
        yamale.validate(schema, yamale.make_data(str(chart_dir / "Chart.yaml")))
    except yamale.YamaleError as error:
        return [f"{chart_dir.name}/Chart.yaml: {message}" for result in error.results for message in result.errors]
    return []


def yaml_style_problems(paths: list[Path], lintconf: Path) -> list[str]:
    config = YamlLintConfig(file=str(lintconf))
    return [f"{path.relative_to(ROOT)}:{problem.line}:{problem.column}: {problem.message} ({problem.rule})"
            for path in paths for problem in linter.run(path.read_text(), config, str(path))
            if problem.level == "error"]


def lint_values(chart: str) -> list[Path | None]:
    """The values files `helm lint` runs with; None is the chart's defaults alone."""
    files = charts.ci_values(chart)
    if chart == charts.UMBRELLA:
        files += [charts.environment_values(environment) for environment in charts.ENVIRONMENTS]
    return files or [None]


def helm_lint_problems(major: int, names: list[str]) -> tuple[int, list[str]]:
    """(runs, problems) of `helm lint --strict` for each chart and values file."""
    helm = helm_binary(major)
    problems, runs = [], 0
    with tempfile.TemporaryDirectory() as scratch:
        staged = charts.stage(Path(scratch) / "charts", helm)
        for chart in names:
            for values in lint_values(chart):
                args = [str(helm), "lint", "--strict", str(staged / chart)] + (["--values", str(values)] if values else [])
                result = subprocess.run(args, check=False, capture_output=True, text=True)
                runs += 1
                if result.returncode != 0:
                    label = values.relative_to(ROOT) if values else "defaults"
                    problems.append(f"helm {major} lint --strict {chart} ({label}):\n{result.stdout}{result.stderr}".rstrip())
    return runs, problems


def main() -> int:
    config = yaml.safe_load((ROOT / "ci" / "ct.yaml").read_text())
    chart_dirs = [path.parent for directory in config["chart-dirs"] for path in sorted((ROOT / directory).glob("*/Chart.yaml"))]
    names = [path.name for path in chart_dirs]
    print(f"lint: {len(names)} charts ({', '.join(names)})")
    problems: list[str] = []

    ref, why = base_ref(config)
    if ref is None:
        print(f"version bump: skipped, {why}")
    else:
        found = [problem for chart_dir in chart_dirs for problem in version_problems(chart_dir, ref)]
        print(f"version bump {why}: {'ok' if not found else f'{len(found)} problems'}")
        problems += found

    found = [problem for chart_dir in chart_dirs for problem in chart_yaml_problems(chart_dir, ROOT / config["chart-yaml-schema"])]
    print(f"Chart.yaml schema (yamale): {'ok' if not found else f'{len(found)} problems'}")
    problems += found

    yaml_files = [path for chart_dir in chart_dirs
                  for path in [chart_dir / "Chart.yaml", chart_dir / "values.yaml", *sorted(chart_dir.glob("ci/*.yaml"))]
                  if path.exists()] + sorted((ROOT / "values").glob("*.yaml"))
    found = yaml_style_problems(yaml_files, ROOT / config["lint-conf"])
    print(f"yamllint ({len(yaml_files)} files): {'ok' if not found else f'{len(found)} problems'}")
    problems += found

    for major in (3, 4):
        runs, found = helm_lint_problems(major, names)
        print(f"helm {major} lint --strict ({runs} runs): {'ok' if not found else f'{len(found)} problems'}")
        problems += found

    for problem in problems:
        print(f"  {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
