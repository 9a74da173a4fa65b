"""`prometheus-targets`: every target Prometheus scrapes is up."""

from __future__ import annotations

import time

import requests

from mlplatform.checks.base import Check, CheckContext, CheckResult
from mlplatform.checks.health import describe_failure

SETTLE_SECONDS = 12.0


def target_component(target: dict) -> str:
    labels = target.get("labels") or {}
    component = labels.get("component") or labels.get("job") or "prometheus"
    return f"{component}/{labels['track']}" if labels.get("track") else component


class TargetsCheck(Check):
    name = "prometheus-targets"
    description = "every Prometheus target up"

    def skip_reason(self, context: CheckContext) -> str | None:
        return None if context.endpoints.has("prometheus") else "no Prometheus in this platform"

    def run(self, context: CheckContext) -> list[CheckResult]:
        url = context.endpoints.url("prometheus") + "/api/v1/targets?state=active"
        try:
            targets = self._settled_targets(url, context.timeout)
        except requests.RequestException as error:
            return [self.failed("prometheus", f"GET {url}: {describe_failure(error)}")]
        if not targets:
            return [self.failed("prometheus", "Prometheus has no active targets: check its scrape configuration")]
        return [self._target(target) for target in targets]

    @staticmethod
    def _settled_targets(url: str, timeout: float) -> list[dict]:
        """The active targets once each has been scraped: a Prometheus that just started applies
        discovered targets in batches (every 5 s), so wait a little for them, never longer than SETTLE_SECONDS."""
        deadline = time.monotonic() + SETTLE_SECONDS
        while True:
            response = requests.get(url, timeout=timeout)
            response.raise_for_status()
            targets = response.json().get("data", {}).get("activeTargets", [])
            settled = targets and all(target.get("health") != "unknown" for target in targets)
            if settled or time.monotonic() > deadline:
                return targets
            time.sleep(0.5)

    def _target(self, target: dict) -> CheckResult:
        component = target_component(target)
        scrape_url = target.get("scrapeUrl", "?")
        health = target.get("health")
        if health == "up":
            return self.passed(component, f"{scrape_url} up")
        if health == "unknown":
            return self.warning(component, f"{scrape_url} not scraped yet")
        return self.failed(component, f"{scrape_url} {health}: {target.get('lastError') or '?'}")
