"""Fixtures: a shared live tuning service, and private ones for tests that restart or reconfigure it."""

from __future__ import annotations

import pytest

from tests.tuning.helpers import TuningService


@pytest.fixture(scope="session")
def tuning(tmp_path_factory) -> TuningService:
    """A tuning service shared by the tests that only submit their own experiments."""
    service = TuningService(tmp_path_factory.mktemp("tuning-service"), max_parallel=4).start()
    yield service
    service.stop()
    assert "Traceback" not in service.logs(), (
        f"the shared tuning service logged an error:\n{service.logs()[-6000:]}"
    )


@pytest.fixture
def start_tuning(tmp_path):
    """Start a private tuning service (restart tests, special environments)."""
    started = []

    def start(**options) -> TuningService:
        service = TuningService(tmp_path / f"service-{len(started)}", **options).start()
        started.append(service)
        return service

    yield start
    for service in started:
        service.stop()
    for service in started:
        assert "Traceback" not in service.logs(), f"a tuning service logged an error:\n{service.logs()[-6000:]}"
