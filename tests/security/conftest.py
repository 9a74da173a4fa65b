"""One pipeline controller and one tuning service (the real `mlp serve` processes) for the security tests, and
the test API server with the multi-user tests' teams (tests/security/multiuser.py)."""

from __future__ import annotations

import pytest

from tests.security.multiuser import add_teams
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


@pytest.fixture
def cluster(kube_api):
    """The test API server with team-a (alice edits), team-b (group team-b-viewers views) and admin everywhere."""
    add_teams(kube_api.server)
    return kube_api
