"""`mlp validate --release R`: run `helm test` (the validate hook Job) and read back its report.

The validate Job prints its table and then one JSON line (mlplatform.checks.report). `helm test --logs`
reads only Pods named like the hook, not a Job's pods, so the report is read from the newest pod of the
release's validate Job (labels `mlplatform.io/hook=validate`, `app.kubernetes.io/instance=R`).
"""

from __future__ import annotations

import asyncio

from kubernetes import client
from kubernetes.client.exceptions import ApiException
from pyhelm3 import errors as helm_errors

from mlplatform.checks.base import FAILED, CheckResult
from mlplatform.checks.report import Report, find_json_line
from mlplatform.kube import api_client
from mlplatform.errors import DependencyError
from mlplatform.release.helm import ReleaseContext, helm_failure


def run_release_tests(release: str, *, namespace: str | None = None, kube_context: str | None = None,
                      kubeconfig: str | None = None, timeout: float = 600) -> Report:
    context = ReleaseContext(release, namespace, kube_context, kubeconfig)
    args = ["test", release, "--timeout", f"{int(timeout)}s"]
    if namespace:
        args += ["--namespace", namespace]
    try:
        asyncio.run(context.helm.run(args))
        test_failure = None
    except helm_errors.Error as error:
        if isinstance(failure := helm_failure(error), DependencyError):
            raise failure from None
        test_failure = _last_line((error.stderr or b"").decode(errors="replace")) or "helm test failed"
    log = validate_log(api_client(kubeconfig, kube_context), release, namespace or "default")
    report = find_json_line(log) if log else None
    if report is None:
        cause = test_failure or "the validate Job left no report (is hooks.validate.enabled true?)"
        report = Report(title="", results=[CheckResult("helm-test", "validate", FAILED, cause)])
    elif test_failure and report.ok:
        report.results.append(CheckResult("helm-test", "validate", FAILED, test_failure))
    report.title = f"helm test {release}" + (f" (namespace {namespace})" if namespace else "") + \
        (f": {report.title}" if report.title else "")
    return report


def validate_log(kube, release: str, namespace: str) -> str:
    """The log of the newest pod of the release's validate Job ("" when there is none)."""
    core = client.CoreV1Api(kube)
    selector = f"mlplatform.io/hook=validate,app.kubernetes.io/instance={release}"
    try:
        pods = core.list_namespaced_pod(namespace, label_selector=selector).items
        if not pods:
            return ""
        newest = max(pods, key=lambda pod: pod.metadata.creation_timestamp.timestamp()
                     if pod.metadata.creation_timestamp else 0.0)
        return core.read_namespaced_pod_log(newest.metadata.name, namespace)
    except ApiException:
        return ""


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""
