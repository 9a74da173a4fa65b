import pytest

from tests.registries.kubeflow_api import KubeflowRegistryServer
from tests.registries.servers import shared_server


@pytest.fixture(scope="session")
def mlflow_registry_url(tmp_path_factory):
    """A real MLflow tracking server (shared with the hook and check tests of this process)."""
    return shared_server("mlflow", tmp_path_factory.getbasetemp()).url


@pytest.fixture
def kubeflow_registry_url():
    server = KubeflowRegistryServer().start()
    yield server.url
    server.stop()
