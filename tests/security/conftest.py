"""One pipeline controller and one tuning service (the real `mlp serve` processes) for the security tests."""

from __future__ import annotations

import pytest

from tests.support.service_process import ServiceProcess


@pytest.fixture(scope="module")
def pipelines_service(tmp_path_factory):
    service = ServiceProcess("pipelines", tmp_path_factory.mktemp("pipelines"), max_parallel=1).start()
    yield service
    service.stop()
    assert "Traceback" not in service.logs(), service.logs()[-6000:]


@pytest.fixture(scope="module")
def tuning_service(tmp_path_factory):
    service = ServiceProcess("tuning", tmp_path_factory.mktemp("tuning"), max_parallel=1).start()
    yield service
    service.stop()
    assert "Traceback" not in service.logs(), service.logs()[-6000:]
