"""apply_model_server_values: local mode's `helm upgrade` of the model server, against real MLServers and nginx."""

from __future__ import annotations

import collections
import json
import re
import uuid

import pytest
import requests

from mlplatform.errors import ConfigError
from mlplatform.registries import open_registry
from tests.support.local_fixtures import inference_request, save_iris_model

pytestmark = pytest.mark.slow


def infer(url: str, model: str) -> requests.Response:
    return requests.post(f"{url}/v2/models/{model}/infer", json=inference_request(), timeout=10)


def predicted(response: requests.Response) -> int:
    assert response.status_code == 200, response.text
    return response.json()["outputs"][0]["data"][0]


@pytest.fixture
def platform(local_platform):
    yield local_platform
    local_platform.reset()


def test_inference_through_nginx_reaches_both_tracks_in_the_configured_ratio(platform, iris_model_uri):
    platform.apply({"modelServer": {"models": [{"name": "iris", "uri": iris_model_uri}],
                                    "canary": {"enabled": True, "weight": 25}}})
    session = requests.Session()
    tracks = collections.Counter()
    for _ in range(200):
        response = session.post(platform.url("model-server") + "/v2/models/iris/infer", json=inference_request())
        assert response.status_code == 200, response.text
        tracks[response.headers["X-Model-Server-Track"]] += 1
    # nginx's smooth weighted round robin is exact over whole cycles of 100 requests.
    assert tracks == {"stable": 150, "canary": 50}
    assert platform.values()["modelServer"]["canary"] == {"enabled": True, "weight": 25, "models": []}
    log = (platform.state_dir / "logs" / "model-server-access.log").read_text()
    assert "track=canary" in log and " 200 " in log and "rt=" in log


def test_models_resolve_through_the_registry_and_follow_a_moved_alias(platform, tmp_path):
    model = f"iris-{uuid.uuid4().hex[:6]}"
    for version, constant in (("1", None), ("2", 2)):
        platform.upload_directory(save_iris_model(tmp_path / version, constant=constant), f"s3://models/{model}/{version}")
    registry = open_registry("mlflow", platform.url("model-registry"))
    registry.ensure_model(model)
    first = registry.ensure_version(model, source=f"s3://models/{model}/1", label="1")
    second = registry.ensure_version(model, source=f"s3://models/{model}/2", label="2")
    registry.set_alias(model, "champion", first.version)

    values = {"modelServer": {"models": [{"name": "iris", "uri": f"models:/{model}@champion"}],
                              "canary": {"enabled": True, "weight": 0, "models": [
                                  {"name": "iris", "uri": f"models:/{model}/{second.version}"}]}}}
    platform.apply(values)
    assert predicted(infer(platform.url("model-server-stable"), "iris")) == 0
    assert predicted(infer(platform.url("model-server-canary"), "iris")) == 2
    assert {infer(platform.url("model-server"), "iris").headers["X-Model-Server-Track"] for _ in range(10)} == {"stable"}

    registry.set_alias(model, "champion", second.version)   # a promotion: the same values now mean version 2
    platform.apply(values)
    assert predicted(infer(platform.url("model-server-stable"), "iris")) == 2
    applied = json.loads((platform.state_dir / "model-server-stable" / "applied.json").read_text())
    assert applied["iris"]["version"] == second.version


def test_a_model_the_values_drop_is_unloaded(platform, iris_model_uri):
    platform.apply({"modelServer": {"models": [{"name": "iris", "uri": iris_model_uri},
                                               {"name": "iris-copy", "uri": iris_model_uri}]}})
    assert infer(platform.url("model-server-stable"), "iris-copy").status_code == 200
    platform.apply({"modelServer": {"models": [{"name": "iris", "uri": iris_model_uri}]}})
    assert infer(platform.url("model-server-stable"), "iris-copy").status_code == 404
    assert infer(platform.url("model-server-stable"), "iris").status_code == 200
    assert not (platform.state_dir / "model-server-stable" / "models" / "iris-copy").exists()


@pytest.mark.parametrize("values, message", [
    ({"canary": {"weight": 10}}, "modelServer.canary.weight is above 0 but modelServer.canary.enabled is false"),
    ({"canary": {"enabled": True, "weight": 101}}, "modelServer.canary.weight: canary weight must be an integer from 0 to 100"),
    ({"models": [{"name": "a"}]}, "modelServer.models[0] needs a name and a uri"),
    ({"models": [{"name": "a", "uri": "s3://m/a"}, {"name": "a", "uri": "s3://m/b"}]}, "model name 'a' appears twice"),
    ({"models": [{"name": "a", "uri": "gs://m/a"}]}, "expected models:/<name>/<version>"),
    ({"models": [{"name": "a", "uri": "s3://models/not-there/1"}]}, "s3://models/not-there/1: no objects there"),
])
def test_bad_values_are_refused_with_the_key_and_serving_is_unchanged(platform, iris_model_uri, values, message):
    platform.apply({"modelServer": {"models": [{"name": "iris", "uri": iris_model_uri}]}})
    before = platform.values()
    with pytest.raises(ConfigError, match=re.escape(message)):
        platform.apply({"modelServer": values})
    assert platform.values() == before
    assert infer(platform.url("model-server"), "iris").status_code == 200
