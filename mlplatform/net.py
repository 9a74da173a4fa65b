"""Small network helpers shared by local mode, tests and benchmarks."""

from __future__ import annotations

import socket
import time

import requests

from mlplatform.errors import DependencyError


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def wait_for_http(url: str, *, timeout: float = 30.0, what: str | None = None, ok=lambda r: r.status_code < 500,
                  alive=lambda: True) -> None:
    """Poll `url` until it answers `ok`; `alive()` returning False (the process died) stops early."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if not alive():
            raise DependencyError(f"{what or url} exited before it answered at {url}")
        try:
            response = requests.get(url, timeout=2)
            if ok(response):
                return
            last = f"HTTP {response.status_code}"
        except requests.RequestException as error:
            last = type(error).__name__
        time.sleep(0.1)
    raise DependencyError(f"{what or url} did not answer at {url} within {timeout:g}s (last: {last})")
