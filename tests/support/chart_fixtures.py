"""Rendering the charts in tests, with helm 3 and helm 4.

The session fixture `chart_suite` stages the charts once per helm major (dependencies built in a
copy) and renders each (chart, values, helm) once; tests share the rendered objects.

    def test_something(chart_suite):
        objects = chart_suite.objects(Render("model-server", set_values=("canary.enabled=true",)), helm=4)

`RENDER_CASES` is the matrix every chart test runs: each subchart with its ci/*-values.yaml and the
umbrella with its ci values and each environment's values/<env>.yaml.
`validation_errors(obj, version)` checks an object strictly against the Kubernetes schemas of that
version (kubernetes-validate), or against tests/charts/crd_schemas for the custom resources.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml

from mlplatform.tools import helm_binary
from mlplatform.values import charts
from mlplatform.values.charts import Render, RenderError

HELM_MAJORS = (3, 4)
# Parametrize a test over both helms: @pytest.mark.parametrize("helm", HELM_PARAMS).
HELM_PARAMS = [pytest.param(3, id="helm3"), pytest.param(4, id="helm4", marks=pytest.mark.helm4)]
KUBERNETES_VERSIONS = ("1.30", "1.31", "1.32", "1.33", "1.34", "1.35")
CRD_SCHEMAS = Path(__file__).resolve().parents[1] / "charts" / "crd_schemas"


@dataclass(frozen=True)
class Case:
    """A named render of the matrix: a chart with one values file."""

    id: str
    render: Render


def _render_cases() -> list[Case]:
    cases = [Case(f"{chart}/{path.name.removesuffix('-values.yaml')}", Render(chart, (path,)))
             for chart in charts.subcharts() for path in charts.ci_values(chart)]
    cases += [Case(f"{charts.UMBRELLA}/{path.name.removesuffix('-values.yaml')}", Render(charts.UMBRELLA, (path,)))
              for path in charts.ci_values(charts.UMBRELLA)]
    cases += [Case(f"{charts.UMBRELLA}/{env}", Render(charts.UMBRELLA, (charts.environment_values(env),)))
              for env in charts.ENVIRONMENTS]
    return cases


RENDER_CASES = _render_cases()


def umbrella_version() -> str:
    """The version in charts/mlplatform/Chart.yaml: every chart and the image carry it (ci/scripts/release.py)."""
    return yaml.safe_load((charts.chart_dirs()[charts.UMBRELLA] / "Chart.yaml").read_text())["version"]


def environment_case(environment: str) -> Case:
    return next(case for case in RENDER_CASES if case.id == f"{charts.UMBRELLA}/{environment}")


class ChartSuite:
    """Staged charts per helm major and a cache of their renders."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self._staged: dict[int, Path] = {}
        self._manifests: dict[tuple[Render, int], str | RenderError] = {}
        self._objects: dict[tuple[Render, int], list[dict]] = {}

    def helm(self, major: int) -> Path:
        return helm_binary(major)

    def staged(self, major: int) -> Path:
        """The charts with their dependencies built by helm `major`."""
        if major not in self._staged:
            self._staged[major] = charts.stage(self.workdir / f"helm{major}", self.helm(major))
        return self._staged[major]

    def manifest(self, render: Render, helm: int = 3) -> str:
        """The rendered manifest; raises RenderError (Helm's message) when Helm refuses."""
        key = (render, helm)
        if key not in self._manifests:
            try:
                self._manifests[key] = charts.template(self.helm(helm), self.staged(helm), render)
            except RenderError as error:
                self._manifests[key] = error
        result = self._manifests[key]
        if isinstance(result, RenderError):
            raise result
        return result

    def objects(self, render: Render, helm: int = 3) -> list[dict]:
        """The rendered objects, parsed once and shared: read them, never change them."""
        key = (render, helm)
        if key not in self._objects:
            self._objects[key] = charts.objects(self.manifest(render, helm))
        return self._objects[key]

    def refusal(self, render: Render, helm: int = 3) -> str:
        """Helm's error for a render that must fail; fails the test when it renders."""
        try:
            self.manifest(render, helm)
        except RenderError as error:
            return str(error)
        pytest.fail(f"helm {helm} rendered {render.chart} with {render.values_files} {render.set_values}; it must refuse")

    def run(self, *args: str, helm: int = 3) -> subprocess.CompletedProcess:
        """Any other helm command, in the staged charts directory."""
        return subprocess.run([str(self.helm(helm)), *args], check=False, capture_output=True, text=True, cwd=self.staged(helm))


@pytest.fixture(scope="session")
def chart_suite(tmp_path_factory) -> ChartSuite:
    return ChartSuite(tmp_path_factory.mktemp("charts"))


# ---- Kubernetes schemas

def _key(obj: dict) -> str:
    return f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"


@cache
def _crd_validator(api_version: str, kind: str) -> jsonschema.Draft202012Validator | None:
    group_version = api_version.replace("/", "-")
    path = CRD_SCHEMAS / f"{kind.lower()}-{group_version}.json"
    return jsonschema.Draft202012Validator(json.loads(path.read_text())) if path.exists() else None


def validation_errors(obj: dict, version: str) -> list[str]:
    """Why `obj` is not a valid object of Kubernetes `version` (strict: unknown fields are errors)."""
    try:
        kubernetes_validate.validate(obj, version, strict=True)
        return []
    except kubernetes_validate.ValidationError as error:
        path = ".".join(str(part) for part in error.path)
        return [f"{_key(obj)} at {path or '(root)'}: {error.message}"]
    except kubernetes_validate.SchemaNotFoundError:
        validator = _crd_validator(obj["apiVersion"], obj["kind"])
        if validator is None:
            return [f"{_key(obj)}: no schema for {obj['apiVersion']} {obj['kind']} in Kubernetes {version} nor in {CRD_SCHEMAS}"]
        return [f"{_key(obj)} at {'.'.join(map(str, error.path)) or '(root)'}: {error.message}"
                for error in validator.iter_errors(obj)]
