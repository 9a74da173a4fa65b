"""Bad values are refused by `helm template` (helm 3 and helm 4) with an error that names the key.

Each tests/charts/bad_values/*.yaml holds `refuses` (the key, dotted, list items by index), `values`
and optionally `chart` (default: the umbrella). The key must appear among the keys Helm's error
names: a schema error (helm 3 and helm 4 word and nest them differently) or a template's `fail`.
"""

import re
from pathlib import Path

import pytest
import yaml

from mlplatform.values import charts
from mlplatform.values.charts import Render
from tests.support.chart_fixtures import HELM_PARAMS

CORPUS = sorted((Path(__file__).parent / "bad_values").glob("*.yaml"))

SECTION = re.compile(r"^([\w-]+):$")
HELM3_ITEM = re.compile(r"^- (\S+): (.*)$")
HELM4_ITEM = re.compile(r"^\s*- at '([^']*)': (.*)$")
FAIL = re.compile(r"execution error at \([^)]*\): ([\w.-]+): ")
QUOTED = re.compile(r"'([^']+)'")


def join(*parts: str) -> str:
    return ".".join(part for part in parts if part)


def _named_in_message(path: str, message: str) -> list[str]:
    """The keys one schema message names: its path, and the properties it says are unknown or missing."""
    helm3 = re.match(r"Additional property (\S+) is not allowed|(\S+) is required", message)
    if helm3:
        return [join(path, helm3.group(1) or helm3.group(2))]
    if re.match(r"(additional properties|missing propert(y|ies)) ", message):
        return [join(path, name) for name in QUOTED.findall(message)]
    return [path]


def named_keys(error: str, chart: str) -> set[str]:
    """Every values key Helm's error names, dotted from the top of the chart's values."""
    keys = {match.group(1) for match in FAIL.finditer(error)}
    prefix = ""
    for line in error.splitlines():
        section = SECTION.match(line)
        if section:
            prefix = "" if section.group(1) == chart else section.group(1)
            continue
        helm4 = HELM4_ITEM.match(line)
        helm3 = None if helm4 else HELM3_ITEM.match(line)
        if helm4:
            path = helm4.group(1).strip("/").replace("/", ".")
            keys.update(join(prefix, key) for key in _named_in_message(path, helm4.group(2)))
        elif helm3:
            path = "" if helm3.group(1) == "(root)" else helm3.group(1)
            keys.update(join(prefix, key) for key in _named_in_message(path, helm3.group(2)))
    return keys


def test_the_corpus_is_large_and_every_case_states_its_key():
    assert len(CORPUS) >= 40
    for path in CORPUS:
        case = yaml.safe_load(path.read_text())
        assert set(case) <= {"chart", "refuses", "values"} and case["refuses"] and case["values"], path.name
        assert case.get("chart", charts.UMBRELLA) in charts.chart_dirs(), path.name


@pytest.mark.parametrize("helm", HELM_PARAMS)
@pytest.mark.parametrize("path", CORPUS, ids=lambda path: path.stem)
def test_bad_values_are_refused_naming_the_key(chart_suite, tmp_path, path, helm):
    case = yaml.safe_load(path.read_text())
    chart = case.get("chart", charts.UMBRELLA)
    values = tmp_path / "values.yaml"
    values.write_text(yaml.safe_dump(case["values"]))
    error = chart_suite.refusal(Render(chart, (values,)), helm)
    assert case["refuses"] in named_keys(error, chart), f"helm {helm} did not name {case['refuses']}:\n{error}"


def test_the_key_parser_reads_both_helm_dialects():
    helm3 = """Error: values don't meet the specifications of the schema(s) in the following chart(s):
mlplatform:
- hooks.register.models.0: name is required
pipelineController:
- (root): Additional property replicaCount is not allowed
modelServer:
- canary.weight: Must be less than or equal to 100
"""
    helm4 = """Error: values don't meet the specifications of the schema(s) in the following chart(s):
mlplatform:
- at '/hooks/register/models/0': validation failed
  - at '/hooks/register/models/0': missing property 'name'
pipelineController:
- at '': additional properties 'replicaCount', 'extra' not allowed
modelServer:
- at '/canary/weight': maximum: got 150, want 100
"""
    expected = {"hooks.register.models.0.name", "pipelineController.replicaCount", "modelServer.canary.weight"}
    assert expected <= named_keys(helm3, "mlplatform")
    assert expected | {"pipelineController.extra"} <= named_keys(helm4, "mlplatform")
    failed = "Error: execution error at (mlplatform/charts/minio/templates/statefulset.yaml:3:4): minio.replicaCount: must be 1"
    assert named_keys(failed, "mlplatform") == {"minio.replicaCount"}
    assert "modelServer.canary" not in named_keys(helm3, "mlplatform")
