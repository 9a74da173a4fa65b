"""The release: versions agree with the tag, and the packaged charts render what the source renders."""

import importlib.util
import shutil
from pathlib import Path

import pytest

from mlplatform.values import charts
from mlplatform.values.charts import Render
from tests.charts.test_render import ignoring_generated_secrets
from tests.support.chart_fixtures import HELM_PARAMS, umbrella_version

ROOT = Path(__file__).resolve().parents[2]
IMAGE = "ghcr.io/mlplatform/mlplatform"
_spec = importlib.util.spec_from_file_location("release", ROOT / "ci" / "scripts" / "release.py")
release = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(release)


def test_the_checkout_is_releasable_at_its_chart_version():
    assert release.version_problems(f"v{umbrella_version()}", IMAGE) == []


def test_a_tag_that_disagrees_is_refused_naming_every_file():
    problems = release.version_problems("v9.9.9", IMAGE)
    named = " ".join(problems)
    for chart in charts.chart_dirs():
        assert f"charts/{chart}/Chart.yaml: version" in named
    assert "pyproject.toml: version" in named
    assert release.version_problems("0.2.0", IMAGE)[0].startswith("tag 0.2.0: a release tag is v")


def test_an_image_the_release_does_not_push_is_refused(tmp_path):
    copy = tmp_path / "repo"
    shutil.copytree(ROOT / "charts", copy / "charts")
    shutil.copytree(ROOT / "values", copy / "values")
    shutil.copy(ROOT / "pyproject.toml", copy)
    values = copy / "charts" / "model-server" / "values.yaml"
    values.write_text(values.read_text().replace("repository: mlplatform/mlplatform", "repository: someone/else", 1))
    problems = release.version_problems(f"v{umbrella_version()}", IMAGE, root=copy)
    assert any("charts/model-server/values.yaml" in problem and "someone/else" in problem for problem in problems), problems


@pytest.mark.slow
@pytest.mark.parametrize("helm", HELM_PARAMS)
def test_packaged_charts_render_the_same_as_the_source(chart_suite, helm, tmp_path):
    packages = release.package(f"v{umbrella_version()}", tmp_path / "dist", chart_suite.helm(helm), IMAGE)
    assert sorted(path.name for path in packages) == sorted(f"{name}-{umbrella_version()}.tgz" for name in charts.chart_dirs(ROOT / "charts"))
    umbrella = next(path for path in packages if path.name.startswith(f"{charts.UMBRELLA}-"))
    for environment in charts.ENVIRONMENTS:
        values = (charts.environment_values(environment),)
        source = chart_suite.objects(Render(charts.UMBRELLA, values), helm)
        rendered = chart_suite.run("template", "mlp", str(umbrella), "--namespace", "mlplatform", "--values", str(values[0]),
                                   helm=helm)
        assert rendered.returncode == 0, rendered.stderr
        packaged = charts.objects(rendered.stdout)
        assert ignoring_generated_secrets(packaged) == ignoring_generated_secrets(source), environment
