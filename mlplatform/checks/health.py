"""`health`: each service's health endpoint answers 200."""

from __future__ import annotations

import requests

from mlplatform.checks.base import Check, CheckContext, CheckResult

# component -> the path that says "ready to serve" (the charts' readiness probes use the same).
HEALTH_PATHS = {
    "pipeline-controller": "/readyz",
    "tuning-service": "/readyz",
    "training-operator": "/readyz",
    "model-registry": "/health",
    "minio": "/minio/health/ready",
    "prometheus": "/-/ready",
    "model-server": "/v2/health/ready",
    "model-server-stable": "/v2/health/ready",
    "model-server-canary": "/v2/health/ready",
    "dashboard": "/readyz",
}
LOCAL_S3_HEALTH = "/moto-api/"  # local mode's S3 is moto, which has no MinIO health path


def health_url(context: CheckContext, component: str) -> str:
    path = HEALTH_PATHS.get(component, "/")
    if component == "minio" and context.config.is_local:
        path = LOCAL_S3_HEALTH
    return context.endpoints.url(component) + path


def describe_failure(error: requests.RequestException) -> str:
    """A short cause: 'connection refused' beats a urllib3 traceback in a report."""
    text = str(error)
    for marker, short in (("Connection refused", "connection refused"), ("timed out", "timed out"),
                          ("Name or service not known", "name does not resolve"),
                          ("Temporary failure in name resolution", "name does not resolve")):
        if marker in text:
            return short
    return type(error).__name__


class HealthCheck(Check):
    name = "health"
    description = "each service's health endpoint answers 200"

    def run(self, context: CheckContext) -> list[CheckResult]:
        return [self._probe(context, component) for component in sorted(context.endpoints.services)]

    def _probe(self, context: CheckContext, component: str) -> CheckResult:
        url = health_url(context, component)
        try:
            response = requests.get(url, timeout=context.timeout)
        except requests.RequestException as error:
            return self.failed(component, f"GET {url}: {describe_failure(error)}")
        if response.status_code != 200:
            return self.failed(component, f"GET {url}: HTTP {response.status_code} {response.text[:200].strip()}")
        return self.passed(component, f"GET {url}: 200")
