import pytest

from tests.registries.kubeflow_api import KubeflowRegistryServer


@pytest.fixture(scope="session")
def mlflow_registry_url(local_platform):
    """Local mode's MLflow tracking server (tests use their own model names)."""
    return local_platform.url("model-registry")


@pytest.fixture
def kubeflow_registry_url():
    server = KubeflowRegistryServer().start()
    yield server.url
    server.stop()
