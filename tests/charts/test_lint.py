"""`make lint` (ci/scripts/lint.py) passes on the suite and catches what `ct lint` catches."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from mlplatform.tools import PROJECT_ROOT

LINT_SCRIPT = PROJECT_ROOT / "ci" / "scripts" / "lint.py"


@pytest.fixture(scope="module")
def lint():
    spec = importlib.util.spec_from_file_location("ci_lint", LINT_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_make_lint_passes():
    result = subprocess.run([sys.executable, str(LINT_SCRIPT)], check=False, capture_output=True, text=True, cwd=PROJECT_ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    for check in ("Chart.yaml schema (yamale): ok", "helm 3 lint --strict", "helm 4 lint --strict", "version bump"):
        assert check in result.stdout


def write_chart(directory: Path, version: str, description: str = "A chart.") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "Chart.yaml").write_text(
        f"apiVersion: v2\nname: {directory.name}\nversion: {version}\nappVersion: \"0.1.0\"\n"
        f"description: {description}\ntype: application\nmaintainers:\n  - name: someone\n")
    return directory


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=repo, check=True, capture_output=True)


def test_a_changed_chart_needs_a_higher_version(lint, tmp_path):
    chart = write_chart(tmp_path / "charts" / "demo", "0.1.0")
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "base")
    assert lint.version_problems(chart, "HEAD", repo=tmp_path) == []
    (chart / "values.yaml").write_text("replicaCount: 2\n")
    problems = lint.version_problems(chart, "HEAD", repo=tmp_path)
    assert problems and "charts/demo changed since HEAD but its version 0.1.0 is not above 0.1.0" in problems[0]
    write_chart(chart, "0.1.1")
    assert lint.version_problems(chart, "HEAD", repo=tmp_path) == []


def test_chart_yaml_is_checked_against_the_chart_schema(lint, tmp_path):
    schema = PROJECT_ROOT / "ci" / "chart_schema.yaml"
    assert lint.chart_yaml_problems(write_chart(tmp_path / "good", "1.2.3"), schema) == []
    problems = lint.chart_yaml_problems(write_chart(tmp_path / "bad", "one"), schema)
    assert any("version" in problem for problem in problems), problems


def test_yaml_style_is_checked_with_the_lint_conf(lint, tmp_path):
    path = PROJECT_ROOT / "values" / "dev.yaml"
    assert lint.yaml_style_problems([path], PROJECT_ROOT / "ci" / "lintconf.yaml") == []
    sloppy = PROJECT_ROOT / "charts" / "minio" / "values.yaml"
    config = tmp_path / "strict.yaml"
    config.write_text("rules:\n  line-length:\n    max: 20\n")
    assert lint.yaml_style_problems([sloppy], config), "a 20-character line limit must flag the chart's values"
