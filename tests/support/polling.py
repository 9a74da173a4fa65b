"""Waiting in tests: poll a condition instead of sleeping a fixed time."""

from __future__ import annotations

import time


def wait_for(condition, what: str = "the condition", timeout: float = 60.0, interval: float = 0.1):
    """Poll until `condition()` returns something truthy and return it; AssertionError naming `what` on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
