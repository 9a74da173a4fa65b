"""Small network helpers shared by local mode, tests and benchmarks."""

from __future__ import annotations

import os
import random
import socket
import time
from pathlib import Path

import requests

from mlplatform.errors import DependencyError


_handed_out: set[int] = set()


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free right now, never handed out before by this process.

    It is drawn from below the kernel's ephemeral range: a port the OS picks (bind to 0) is one that any
    outgoing connection may take before the server that was given it binds it.
    """
    start, end = _port_span()
    for _ in range(100):
        port = random.randrange(start, end)
        if port not in _handed_out and _bindable(host, port):
            _handed_out.add(port)
            return port
    raise DependencyError(f"no free TCP port on {host} in {start}-{end - 1} after 100 tries")


def _port_span() -> tuple[int, int]:
    """The 12,000 ports below the ephemeral range, or slice I of N of them when MLP_PORT_SLICE is "I/N".

    Parallel test workers set their own slice (tests/conftest.py) and the processes they start inherit it,
    so two workers never hand out the same port between its check and its bind."""
    low = _ephemeral_range()[0]
    start, end = max(1024, low - 12000), low
    index, _, count = os.environ.get("MLP_PORT_SLICE", "0/1").partition("/")
    width = (end - start) // int(count)
    return start + int(index) * width, start + (int(index) + 1) * width


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999   # Linux's default


def _bindable(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


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
