"""The local-nginx router against local mode's real nginx: weights read back, set under load with no error."""

from __future__ import annotations

import collections
import threading
from typing import Self

import pytest
import requests

from mlplatform import plugins
from mlplatform.errors import ConfigError
from mlplatform.routers import RouterContext, open_router
from tests.support.local_fixtures import inference_request

pytestmark = pytest.mark.slow


@pytest.fixture
def serving(local_platform, iris_model_uri):
    local_platform.apply({"modelServer": {"models": [{"name": "iris", "uri": iris_model_uri}],
                                          "canary": {"enabled": True, "weight": 0}}})
    yield local_platform
    local_platform.reset()


def router_for(platform):
    values = platform.values()["modelServer"]
    return open_router(values, RouterContext(release="local", state_dir=platform.state_dir))


class Load:
    """Threads posting inferences through nginx until stopped; counts statuses and tracks per weight."""

    def __init__(self, url: str, threads: int = 3):
        self.url = url + "/v2/models/iris/infer"
        self.weight: int | None = 0
        self.results: collections.Counter = collections.Counter()
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run) for _ in range(threads)]

    def _run(self) -> None:
        session = requests.Session()
        while not self._stop.is_set():
            weight = self.weight
            try:
                response = session.post(self.url, json=inference_request(), timeout=10)
            except requests.RequestException as error:
                self.errors.append(f"{type(error).__name__}: {error}")
                continue
            self.results[(weight, response.status_code, response.headers.get("X-Model-Server-Track"))] += 1

    def __enter__(self) -> Self:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()


def test_the_router_is_the_local_nginx_plugin_and_reads_the_live_weight(serving):
    router = router_for(serving)
    assert type(router) is plugins.load("mlplatform.routers", "local-nginx")
    assert router.get_weight() == 0
    router.set_weight(40)
    assert router.get_weight() == 40
    assert requests.get(serving.url("model-server") + "/-/weight", timeout=5).json() == {"canary": 40}
    with pytest.raises(ConfigError, match="integer from 0 to 100"):
        router.set_weight(120)
    assert router.get_weight() == 40


def test_weight_changes_under_load_drop_no_request(serving):
    router = router_for(serving)
    with Load(serving.url("model-server")) as load:
        for weight in (10, 50, 90, 100, 0, 30):
            load.weight = None          # requests sent while the weight changes may go either way
            router.set_weight(weight)
            load.weight = weight        # requests sent from now on must be routed with `weight`
            deadline = sum(load.results.values()) + 60
            while sum(load.results.values()) < deadline:
                threading.Event().wait(0.01)
    assert load.errors == []
    statuses = {status for (_, status, _) in load.results}
    assert statuses == {200}
    served = collections.defaultdict(collections.Counter)
    for (weight, _, track), count in load.results.items():
        served[weight][track] += count
    assert set(served[100]) == {"canary"} and set(served[0]) == {"stable"}, dict(served)
    assert served[50]["canary"] > 0 and served[50]["stable"] > 0
