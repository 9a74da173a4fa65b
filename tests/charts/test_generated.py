"""Generated files (values, Prometheus rules, values schemas, README tables) match their sources."""

import shutil
import subprocess

import pytest
import yaml

from mlplatform.cli import main
from mlplatform.tools import PROJECT_ROOT, find_binary, helm_binary
from mlplatform.values import charts, cli, generate
from mlplatform.values.charts import Render
from tests.support.chart_fixtures import HELM_PARAMS

EXTRA_RULES = """{ groups: [{ name: 'extra', rules: [{ record: 'mlplatform:requests:rate5m',
  expr: 'sum by (component, track) (rate(model_infer_request_success[5m]))' }] }] }
"""


def test_generated_files_are_in_sync_with_their_sources():
    assert generate.out_of_date() == [], "run `mlp values render` (make values)"


def test_mlp_values_render_check_passes():
    result = subprocess.run(["mlp", "values", "render", "--check"], check=False, capture_output=True, text=True, cwd=PROJECT_ROOT)
    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout


@pytest.fixture
def checkout(tmp_path):
    """A copy of the sources and generated files, to change without touching the project."""
    for directory in ("charts", "values"):
        shutil.copytree(PROJECT_ROOT / directory, tmp_path / directory, ignore=shutil.ignore_patterns("*.tgz", "Chart.lock"))
    return tmp_path


def test_check_names_every_out_of_date_file_and_render_fixes_them(checkout, monkeypatch, capsys):
    rules = checkout / "charts" / "prometheus" / "rules"
    (rules / "extra.jsonnet").write_text(EXTRA_RULES)                          # a new source
    (rules.parent / "files" / "rules" / "retired.yaml").write_text("groups: []\n")  # a file whose source is gone
    dev = checkout / "values" / "src" / "dev.jsonnet"
    dev.write_text(dev.read_text().replace("retention: '2d'", "retention: '3d'"))  # a changed source
    readme = checkout / "charts" / "minio" / "README.md"
    readme.write_text(readme.read_text().replace("| `replicaCount`", "| `replicas`"))  # a hand-edited table

    expected = sorted(checkout / path for path in (
        "values/dev.yaml", "charts/prometheus/files/rules/extra.yaml",
        "charts/prometheus/files/rules/retired.yaml", "charts/minio/README.md"))
    assert generate.out_of_date(checkout) == expected

    monkeypatch.setattr(cli, "PROJECT_ROOT", checkout)
    with pytest.raises(SystemExit) as exit_:
        main(["values", "render", "--check"])
    assert exit_.value.code == 1
    error = capsys.readouterr().err
    assert all(str(path.relative_to(checkout)) in error for path in expected), error

    main(["values", "render"])
    assert generate.out_of_date(checkout) == []
    assert not (rules.parent / "files" / "rules" / "retired.yaml").exists()
    extra = yaml.safe_load((rules.parent / "files" / "rules" / "extra.yaml").read_text())
    assert extra["groups"][0]["rules"][0]["record"] == "mlplatform:requests:rate5m"
    assert "retention: 3d" in (checkout / "values" / "dev.yaml").read_text()


@pytest.mark.parametrize("helm", HELM_PARAMS)
def test_the_prometheus_chart_loads_every_rule_file(checkout, tmp_path, helm):
    rules = checkout / "charts" / "prometheus" / "files" / "rules"
    staged = charts.stage(tmp_path / "staged", helm_binary(helm), root=checkout / "charts")
    objects = charts.objects(charts.template(helm_binary(helm), staged, Render("prometheus")))
    config = next(obj for obj in objects if obj["metadata"]["name"] == "mlp-prometheus-rules")
    assert set(config["data"]) == {path.name for path in rules.glob("*.yaml")} == {"platform.yaml", "serving.yaml"}
    assert config["data"]["serving.yaml"] == (rules / "serving.yaml").read_text()


@pytest.mark.skipif(find_binary("promtool") is None, reason="promtool (Debian package prometheus) is not installed")
def test_the_rule_files_are_valid_prometheus_rules():
    files = sorted((PROJECT_ROOT / "charts" / "prometheus" / "files" / "rules").glob("*.yaml"))
    result = subprocess.run([str(find_binary("promtool")), "check", "rules", *map(str, files)], check=False, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
