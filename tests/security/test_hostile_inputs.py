"""Hostile input against the real services (issue 14): each case is refused with a 4xx naming the limit,
in under a second, with under 50 MB of memory growth, while another request is answered meanwhile.

Run with `-s` to see each case's status, time and RSS growth.
"""

from __future__ import annotations

import gzip
import io
import json
import tarfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.unit.test_inputs import billion_laughs

pytestmark = pytest.mark.slow

MiB = 1024 * 1024
KFP = "/apis/v2beta1"
KATIB = "/api/v1"
JSON = {"Content-Type": "application/json"}
YAML = {"Content-Type": "application/yaml"}


@dataclass
class Outcome:
    status: int
    text: str
    seconds: float
    rss_growth_mb: float
    other_request_status: int


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for process {pid}")


def send_hostile(service, method: str, path: str, probe: str, **request) -> Outcome:
    """Send one hostile request and, while it is in flight, an ordinary one (`probe`)."""
    before = rss_mb(service.process.pid)
    with ThreadPoolExecutor(max_workers=2) as pool:
        started = time.monotonic()
        hostile = pool.submit(requests.request, method, service.url + path, timeout=30, **request)
        other = pool.submit(requests.get, service.url + probe, timeout=10)
        response = hostile.result()
        seconds = time.monotonic() - started
        other_status = other.result().status_code
    outcome = Outcome(response.status_code, response.text, seconds, rss_mb(service.process.pid) - before,
                      other_status)
    print(f"\n{method} {path[:60]}: {outcome.status} in {seconds:.3f}s, RSS +{outcome.rss_growth_mb:.1f} MB, "
          f"other request {other_status}")
    return outcome


def assert_refused(outcome: Outcome, status: int, names: str) -> None:
    assert outcome.status == status, outcome.text[:500]
    assert names in outcome.text, outcome.text[:500]
    assert outcome.seconds < 1.0, outcome
    assert outcome.rss_growth_mb < 50, outcome
    assert outcome.other_request_status == 200, outcome


def deep_json(depth: int = 1000) -> str:
    return '{"a":' * depth + "1" + "}" * depth


def experiment_yaml(name: str, trial_spec: str) -> str:
    return f"""apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata: {{name: {name}}}
spec:
  objective: {{type: maximize, objectiveMetricName: accuracy}}
  algorithm: {{algorithmName: random}}
  maxTrialCount: 1
  parameters:
    - {{name: lr, parameterType: double, feasibleSpace: {{min: "0.01", max: "0.1"}}}}
  trialTemplate:
    trialParameters: [{{name: lr, reference: lr}}]
    trialSpec: {trial_spec}
"""


def gzip_bomb(size: int) -> bytes:
    """A .tar.gz of a few tens of KB holding a pipeline.yaml of `size` bytes."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        member = tarfile.TarInfo("pipeline.yaml")
        member.size = size
        archive.addfile(member, io.BytesIO(bytes(size)))
    return buffer.getvalue()


# --- the pipeline controller ------------------------------------------------------------------------------------


def test_billion_laughs_uploaded_as_a_pipeline(pipelines_service):
    outcome = send_hostile(pipelines_service, "POST", f"{KFP}/pipelines/upload?name=laughs", f"{KFP}/pipelines",
                           files={"uploadfile": ("pipeline.yaml", billion_laughs().encode())})
    assert_refused(outcome, 400, "YAML alias")


def test_a_gzip_bomb_uploaded_as_a_pipeline(pipelines_service):
    bomb = gzip_bomb(64 * MiB)
    assert len(bomb) < MiB / 4
    outcome = send_hostile(pipelines_service, "POST", f"{KFP}/pipelines/upload?name=gz", f"{KFP}/pipelines",
                           files={"uploadfile": ("pipeline.tar.gz", bomb)})
    assert_refused(outcome, 400, "67108864 bytes, over the limit of 33554432 bytes")


def test_an_upload_over_32_mib(pipelines_service):
    outcome = send_hostile(pipelines_service, "POST", f"{KFP}/pipelines/upload?name=big", f"{KFP}/pipelines",
                           files={"uploadfile": ("pipeline.yaml", b"#" * (32 * MiB + 1))})
    assert_refused(outcome, 413, "over the limit of 33554432 bytes")


@pytest.mark.parametrize("path", [f"{KFP}/runs", f"{KFP}/experiments", f"{KFP}/pipelines",
                                  f"{KFP}/pipelines/create"])
def test_json_nested_1000_deep_on_kfp_posts(pipelines_service, path):
    outcome = send_hostile(pipelines_service, "POST", path, f"{KFP}/runs", data=deep_json(), headers=JSON)
    assert_refused(outcome, 400, "nested deeper than the limit of 64 levels")


def test_a_body_over_1_mib_on_kfp_posts(pipelines_service):
    body = json.dumps({"display_name": "big", "description": "x" * (2 * MiB)})
    outcome = send_hostile(pipelines_service, "POST", f"{KFP}/experiments", f"{KFP}/runs", data=body, headers=JSON)
    assert_refused(outcome, 413, "over the limit of 1048576 bytes")


@pytest.mark.parametrize("collection", ["runs", "experiments", "pipelines"])
def test_blank_sort_by(pipelines_service, collection):
    outcome = send_hostile(pipelines_service, "GET", f"{KFP}/{collection}?sort_by=%20", f"{KFP}/runs")
    assert_refused(outcome, 400, "sort_by ' ' is blank")


def test_a_filter_nested_deep(pipelines_service):
    deep = "[" * 2000 + "]" * 2000
    outcome = send_hostile(pipelines_service, "GET", f"{KFP}/runs", f"{KFP}/runs", params={"filter": deep})
    assert_refused(outcome, 400, "filter is nested deeper than the limit of 8 levels")


def test_a_10_mb_unknown_field_in_a_kfp_experiment(pipelines_service):
    body = json.dumps({"display_name": "unknown-big", "surprise": "x" * (10 * MiB)})
    outcome = send_hostile(pipelines_service, "POST", f"{KFP}/experiments", f"{KFP}/runs", data=body, headers=JSON)
    assert_refused(outcome, 413, "over the limit of 1048576 bytes")


def test_unknown_kfp_fields_are_ignored_and_never_stored(pipelines_service):
    created = requests.post(f"{pipelines_service.url}{KFP}/experiments", timeout=10,
                            json={"display_name": "unknown-small", "surprise": "s" * 1000})
    assert created.status_code == 200, created.text
    stored = requests.get(f"{pipelines_service.url}{KFP}/experiments/{created.json()['experiment_id']}", timeout=10)
    assert "surprise" not in stored.text and "sss" not in stored.text


# --- the tuning service -----------------------------------------------------------------------------------------


def test_billion_laughs_in_an_experiment_trial_spec(tuning_service):
    bomb = billion_laughs() + experiment_yaml("laughs", "*i")
    outcome = send_hostile(tuning_service, "POST", f"{KATIB}/experiments", f"{KATIB}/experiments",
                           data=bomb.encode(), headers=YAML)
    assert_refused(outcome, 400, "YAML alias")


@pytest.mark.parametrize("method, path", [("POST", f"{KATIB}/experiments"), ("PATCH", f"{KATIB}/experiments/any"),
                                          ("POST", f"{KATIB}/trials/any/metrics")])
def test_json_nested_1000_deep_on_tuning(tuning_service, method, path):
    outcome = send_hostile(tuning_service, method, path, f"{KATIB}/experiments", data=deep_json(), headers=JSON)
    assert_refused(outcome, 400, "nested deeper than the limit of 64 levels")


@pytest.mark.parametrize("headers", [YAML, {"Content-Type": "text/plain"}])
def test_json_nested_1000_deep_under_another_content_type(tuning_service, headers):
    outcome = send_hostile(tuning_service, "POST", f"{KATIB}/experiments", f"{KATIB}/experiments",
                           data=deep_json(), headers=headers)
    assert_refused(outcome, 400, "nested deeper than the limit of 64 levels")


def test_a_10_mb_unknown_field_in_an_experiment(tuning_service):
    body = experiment_yaml("unknown-big", "{apiVersion: batch/v1, kind: Job}") + f"  surprise: {'x' * 10 * MiB}\n"
    outcome = send_hostile(tuning_service, "POST", f"{KATIB}/experiments", f"{KATIB}/experiments",
                           data=body.encode(), headers=YAML)
    assert_refused(outcome, 413, "over the limit of 1048576 bytes")


def test_a_gzip_encoded_body_is_not_inflated(tuning_service):
    """Content-Encoding is not honoured: a compressed body is the bytes it is, refused as unreadable."""
    body = gzip.compress(b"{" * MiB)
    outcome = send_hostile(tuning_service, "POST", f"{KATIB}/experiments", f"{KATIB}/experiments",
                           data=body, headers={**JSON, "Content-Encoding": "gzip"})
    assert 400 <= outcome.status < 500 and outcome.seconds < 1.0 and outcome.other_request_status == 200
