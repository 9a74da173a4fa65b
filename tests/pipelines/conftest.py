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
def moto_s3(tmp_path_factory):
    """A real S3 endpoint (moto_server) with one bucket; yields the environment that points at it."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from mlplatform.net import free_port, wait_for_http
    from mlplatform.s3 import s3_client

    port = free_port()
    log = open(tmp_path_factory.mktemp("moto") / "moto.log", "wb")
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
        saved = {key: os.environ.get(key) for key in env}
        os.environ.update(env)
        s3_client().create_bucket(Bucket="pipelines")
        yield env
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()
