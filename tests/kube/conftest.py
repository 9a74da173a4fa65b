"""Clients of the test Kubernetes API server for tests/kube (the server comes from the `kube_api` fixture)."""

from __future__ import annotations

import pytest
from kubernetes import client, dynamic


@pytest.fixture
def api(kube_api) -> client.ApiClient:
    return kube_api.api_client()


@pytest.fixture
def core(api) -> client.CoreV1Api:
    return client.CoreV1Api(api)


@pytest.fixture
def apps(api) -> client.AppsV1Api:
    return client.AppsV1Api(api)


@pytest.fixture
def batch(api) -> client.BatchV1Api:
    return client.BatchV1Api(api)


@pytest.fixture
def custom(api) -> client.CustomObjectsApi:
    return client.CustomObjectsApi(api)


@pytest.fixture
def dyn(api) -> dynamic.DynamicClient:
    return dynamic.DynamicClient(api)
