"""Retries with exponential backoff under a deadline, for calls to services that may be starting.

A call that still fails at the deadline raises DependencyError naming what was tried and the last cause.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from mlplatform.errors import DependencyError

T = TypeVar("T")


def retry(
    operation: Callable[[], T],
    *,
    what: str,
    deadline_seconds: float = 60.0,
    initial_delay: float = 0.2,
    max_delay: float = 5.0,
    factor: float = 2.0,
    retry_on: tuple[type[BaseException], ...] = (Exception,),
    on_retry: Callable[[int, BaseException, float], None] | None = None,
) -> T:
    """Call `operation` until it succeeds or `deadline_seconds` pass.

    `what` names the operation for the error ("model registry at http://...: register fraud v3").
    Exceptions outside `retry_on` propagate at once (a bad request will not get better by waiting).
    """
    deadline = time.monotonic() + deadline_seconds
    delay = initial_delay
    attempt = 0
    while True:
        attempt += 1
        try:
            return operation()
        except retry_on as error:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise DependencyError(
                    f"{what}: still failing after {attempt} attempts over {deadline_seconds:g}s: {error}"
                ) from error
            pause = min(delay, max_delay, remaining)
            if on_retry is not None:
                on_retry(attempt, error, pause)
            time.sleep(pause)
            delay *= factor


def wait_until(
    condition: Callable[[], bool], *, what: str, timeout: float = 30.0, interval: float = 0.1
) -> None:
    """Poll `condition` until it is true; DependencyError names `what` on timeout."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise DependencyError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(interval)
