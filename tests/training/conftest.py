"""Fixtures: a shared live training operator (`mlp serve training --runner local`) and clients for it."""

from __future__ import annotations

import pytest

from mlplatform.kube import api_client
from mlplatform.kubeapi.kubeconfig import write_kubeconfig
from tests.support.service_process import ServiceProcess


@pytest.fixture(scope="session")
def training(tmp_path_factory) -> ServiceProcess:
    """A training operator shared by the tests that only submit their own jobs."""
    service = ServiceProcess("training", tmp_path_factory.mktemp("training-operator"), max_parallel=4).start()
    yield service
    service.stop()
    assert "Traceback" not in service.logs(), f"the training operator logged an error:\n{service.logs()[-6000:]}"


@pytest.fixture
def kubeconfig(training, tmp_path):
    """A kubeconfig pointing at the shared training operator, as `mlp local up` writes one."""
    return write_kubeconfig(tmp_path / "kubeconfig", training.url, namespace="default")


@pytest.fixture
def kube(kubeconfig):
    made = api_client(str(kubeconfig))
    yield made
    made.close()
