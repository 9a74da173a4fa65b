"""Runs the installed `mlplatform.checks` plugins side by side and gathers one Report."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from mlplatform import plugins
from mlplatform.checks.base import FAILED, SKIPPED, CheckContext, CheckResult
from mlplatform.checks.report import Report
from mlplatform.errors import ConfigError

GROUP = "mlplatform.checks"


def load_checks(names: tuple[str, ...] = ()) -> list:
    """The check objects to run: every installed check, or only `names`."""
    installed = plugins.available(GROUP)
    unknown = sorted(set(names) - set(installed))
    if unknown:
        raise ConfigError(f"unknown checks {unknown}; installed: {sorted(installed)}")
    chosen = names or tuple(sorted(installed))
    return [plugins.load(GROUP, name)() for name in chosen]


def run_check(check, context: CheckContext) -> list[CheckResult]:
    name = getattr(check, "name", type(check).__name__)
    started = time.monotonic()
    try:
        reason = check.skip_reason(context)
        results = [CheckResult(name, "-", SKIPPED, reason)] if reason else list(check.run(context))
    except Exception as error:  # noqa: BLE001 - a broken check is a failed check, not a crashed report
        results = [CheckResult(name, name, FAILED, f"the check itself failed: {type(error).__name__}: {error}")]
    elapsed = time.monotonic() - started
    for result in results:
        result.seconds = round(elapsed, 3)
    return results


def run_checks(context: CheckContext, checks: list, title: str) -> Report:
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=max(1, len(checks))) as pool:
        batches = list(pool.map(lambda check: run_check(check, context), checks))
    results = [result for batch in batches for result in batch]
    return Report(title=title, results=results, seconds=time.monotonic() - started)
