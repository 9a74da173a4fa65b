"""A controller shared by the tests that only submit their own runs; private ones for restarts."""

from __future__ import annotations

import pytest

from tests.pipelines.controller import Controller


@pytest.fixture(scope="session")
def controller(tmp_path_factory) -> Controller:
    service = Controller(tmp_path_factory.mktemp("pipeline-controller"), max_parallel=4).start()
    yield service
    service.stop()
    assert "Traceback" not in service.logs(), f"the controller logged an error:\n{service.logs()[-6000:]}"


@pytest.fixture
def start_controller(tmp_path):
    started = []

    def start(**options) -> Controller:
        service = Controller(tmp_path / f"controller-{len(started)}", **options).start()
        started.append(service)
        return service

    yield start
    for service in started:
        service.stop()


@pytest.fixture(scope="session")
def moto_s3(tmp_path_factory) -> dict:
    """A real S3 endpoint (moto_server) with a bucket "pipelines"; yields the environment pointing at it."""
    import subprocess
    import sys
    from pathlib import Path

    from mlplatform.net import free_port, wait_for_http

    port = free_port()
    log_path = tmp_path_factory.mktemp("moto") / "moto.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "moto_server"), "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    env = {
        "MLP_S3_ENDPOINT": f"http://127.0.0.1:{port}",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    try:
        wait_for_http(
            f"http://127.0.0.1:{port}/", timeout=30, what="moto_server", alive=lambda: process.poll() is None
        )
        moto_client(env).create_bucket(Bucket="pipelines")
        yield env
    finally:
        process.terminate()
        process.wait(timeout=10)


def moto_client(env: dict):
    from mlplatform.s3 import s3_client

    return s3_client(
        env["MLP_S3_ENDPOINT"],
        {"access_key_id": env["AWS_ACCESS_KEY_ID"], "secret_access_key": env["AWS_SECRET_ACCESS_KEY"]},
    )
