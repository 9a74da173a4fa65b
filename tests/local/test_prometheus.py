"""Local mode's Prometheus scrapes both MLServers (and the rest) with the labels of contracts §1."""

from __future__ import annotations

import pytest
import requests
import yaml

from mlplatform.local.components.prometheus import RULES_DIR
from mlplatform.retry import wait_until
from tests.support.local_fixtures import inference_request

pytestmark = pytest.mark.slow


def query(platform, promql: str) -> list[dict]:
    response = requests.get(platform.url("prometheus") + "/api/v1/query", params={"query": promql}, timeout=5)
    response.raise_for_status()
    return response.json()["data"]["result"]


def test_every_target_is_up_with_its_component_and_track(local_platform):
    def targets():
        response = requests.get(local_platform.url("prometheus") + "/api/v1/targets", timeout=5)
        return response.json()["data"]["activeTargets"]

    wait_until(lambda: all(target["health"] == "up" for target in targets()), what="every target up", timeout=20)
    labels = {(target["labels"]["component"], target["labels"].get("track")) for target in targets()}
    assert {("model-server", "stable"), ("model-server", "canary"), ("prometheus", None),
            ("pipeline-controller", None), ("tuning-service", None)} <= labels


def test_inference_metrics_of_each_track_reach_prometheus(local_platform, iris_model_uri):
    local_platform.apply({"modelServer": {"models": [{"name": "iris", "uri": iris_model_uri}],
                                          "canary": {"enabled": True, "weight": 50}}})
    try:
        for _ in range(20):
            response = requests.post(local_platform.url("model-server") + "/v2/models/iris/infer",
                                     json=inference_request(), timeout=10)
            assert response.status_code == 200
        promql = 'sum by (track) (model_infer_request_success_total{component="model-server", model="iris"})'
        wait_until(lambda: {result["metric"].get("track") for result in query(local_platform, promql)}
                   >= {"stable", "canary"}, what="iris inference counts of both tracks", timeout=20)
        counts = {result["metric"]["track"]: float(result["value"][1]) for result in query(local_platform, promql)}
        assert counts["stable"] >= 10 and counts["canary"] >= 10
    finally:
        local_platform.reset()


@pytest.mark.skipif(not list(RULES_DIR.glob("*.yaml")), reason="no generated rule files yet")
def test_the_charts_rule_files_are_loaded(local_platform):
    expected = {group["name"] for path in RULES_DIR.glob("*.yaml")
                for group in yaml.safe_load(path.read_text())["groups"]}
    response = requests.get(local_platform.url("prometheus") + "/api/v1/rules", timeout=5)
    assert {group["name"] for group in response.json()["data"]["groups"]} == expected
