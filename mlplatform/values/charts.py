"""The chart suite on disk, and rendering it with helm 3 or helm 4.

The charts depend on each other through `file://` (the subcharts on the library chart, the umbrella
on all of them), so Helm needs their dependencies built into each chart's `charts/` directory.
`stage` does that in a copy, leaving the working tree untouched and never serving a stale package.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import yaml

from mlplatform.errors import ConfigError
from mlplatform.tools import PROJECT_ROOT

CHARTS_DIR = PROJECT_ROOT / "charts"
UMBRELLA = "mlplatform"
LIBRARY = "mlplatform-lib"
ENVIRONMENTS = ("dev", "staging", "prod")


class RenderError(ConfigError):
    """`helm template` refused the chart or its values; the message is Helm's error."""


def chart_dirs(root: Path = CHARTS_DIR) -> dict[str, Path]:
    """name -> directory of every chart (library included)."""
    return {path.parent.name: path.parent for path in sorted(root.glob("*/Chart.yaml"))}


def subcharts(root: Path = CHARTS_DIR) -> list[str]:
    """The component charts: everything but the umbrella and the library."""
    return [name for name in chart_dirs(root) if name not in (UMBRELLA, LIBRARY)]


def ci_values(chart: str, root: Path = CHARTS_DIR) -> list[Path]:
    """The chart's ci/*-values.yaml (chart-testing's convention): the value sets it must render with."""
    return sorted((root / chart / "ci").glob("*-values.yaml"))


def environment_values(environment: str) -> Path:
    return PROJECT_ROOT / "values" / f"{environment}.yaml"


def _helm(helm: Path, *args: str, cwd: Path | None = None) -> str:
    result = subprocess.run([str(helm), *args], check=False, capture_output=True, text=True, cwd=cwd)
    if result.returncode != 0:
        raise RenderError(result.stderr.strip() or result.stdout.strip())
    return result.stdout


def stage(destination: Path, helm: Path, root: Path = CHARTS_DIR) -> Path:
    """Copy the charts to `destination` and build their dependencies: subcharts first, then the umbrella."""
    shutil.copytree(root, destination, ignore=shutil.ignore_patterns("*.tgz", "Chart.lock"), dirs_exist_ok=True)
    for chart in [*subcharts(destination), UMBRELLA]:
        _helm(helm, "dependency", "update", "--skip-refresh", str(destination / chart))
    return destination


@dataclass(frozen=True)
class Render:
    """One `helm template` of a chart with value files and --set overrides."""

    chart: str
    values_files: tuple[Path, ...] = ()
    set_values: tuple[str, ...] = ()
    release: str = "mlp"
    namespace: str = "mlplatform"

    def args(self, staged: Path) -> list[str]:
        args = ["template", self.release, str(staged / self.chart), "--namespace", self.namespace]
        for path in self.values_files:
            args += ["--values", str(path)]
        for assignment in self.set_values:
            args += ["--set", assignment]
        return args


def template(helm: Path, staged: Path, render: Render) -> str:
    """The manifest `helm template` renders; RenderError carries Helm's message."""
    return _helm(helm, *render.args(staged))


def objects(manifest: str) -> list[dict]:
    """The Kubernetes objects of a rendered manifest."""
    return [document for document in yaml.safe_load_all(manifest) if document]
