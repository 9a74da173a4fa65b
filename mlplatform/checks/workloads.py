"""`workloads`: every workload of the release is ready.

In a cluster: the release's Deployments and StatefulSets (label app.kubernetes.io/instance), with the
reason their pods are not ready (CrashLoopBackOff, ImagePullBackOff, ...). In local mode: every
process `mlp local up` started (`<state-dir>/processes.json`) runs and answers its health URL, and
none it could not start (a missing binary) is forgotten.
"""

from __future__ import annotations

from pathlib import Path

from kubernetes import client
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from mlplatform.checks.base import Check, CheckContext, CheckResult
from mlplatform.kube import request_timeout

NAME_LABEL = "app.kubernetes.io/name"
INSTANCE_LABEL = "app.kubernetes.io/instance"


class WorkloadsCheck(Check):
    name = "workloads"
    description = "every workload ready"

    def skip_reason(self, context: CheckContext) -> str | None:
        if context.config.is_local:
            return None if context.state_dir else "no local state directory given"
        return None if context.kube is not None else "no Kubernetes API access"

    def run(self, context: CheckContext) -> list[CheckResult]:
        if context.config.is_local:
            return self._local(context.state_dir)
        return self._kubernetes(context)

    def _local(self, state_dir: Path) -> list[CheckResult]:
        """Each process local mode started: running, and its health URL answering (local mode's own probe)."""
        from mlplatform.local.platform import NotRunning, status

        try:
            statuses = status(state_dir)
        except NotRunning as error:
            return [self.failed("local", str(error))]
        if not statuses:
            return [self.failed("local", f"{state_dir} lists no process: is local mode up (mlp local up)?")]
        return [self.passed(process.name, f"pid {process.pid} {process.state}") if process.healthy
                else self.failed(process.name, f"{process.state}: {process.detail}"
                                               + (f" (log {process.log})" if process.log and process.state != "exited" else ""))
                for process in statuses]

    def _kubernetes(self, context: CheckContext) -> list[CheckResult]:
        namespace = context.config.namespace or "default"
        selector = f"{INSTANCE_LABEL}={context.config.release}"
        apps = client.AppsV1Api(context.kube)
        try:
            workloads = [("Deployment", item) for item in apps.list_namespaced_deployment(
                namespace, label_selector=selector, _request_timeout=request_timeout(context.timeout)).items]
            workloads += [("StatefulSet", item) for item in apps.list_namespaced_stateful_set(
                namespace, label_selector=selector, _request_timeout=request_timeout(context.timeout)).items]
        except (ApiException, HTTPError) as error:
            return [self.failed("kubernetes", f"cannot list workloads in {namespace}: {_api_cause(error)}")]
        if not workloads:
            return [self.failed("kubernetes", f"no Deployment or StatefulSet with {selector} in namespace {namespace}")]
        return [self._workload(context, kind, item) for kind, item in workloads]

    def _workload(self, context: CheckContext, kind: str, item) -> CheckResult:
        labels = item.metadata.labels or {}
        component = labels.get(NAME_LABEL, item.metadata.name)
        if labels.get("track"):
            component = f"{component}-{labels['track']}"
        wanted = item.spec.replicas if item.spec.replicas is not None else 1
        ready = (item.status.ready_replicas if item.status else 0) or 0
        if ready >= wanted:
            return self.passed(component, f"{kind} {item.metadata.name}: {ready}/{wanted} ready")
        reasons = self._pod_reasons(context, item)
        return self.failed(component, f"{kind} {item.metadata.name}: {ready}/{wanted} ready"
                                      + (f" ({reasons})" if reasons else ""))

    @staticmethod
    def _pod_reasons(context: CheckContext, item) -> str:
        """Why the workload's pods are not ready, from their container states."""
        match = (item.spec.selector.match_labels or {}) if item.spec.selector else {}
        selector = ",".join(f"{key}={value}" for key, value in sorted(match.items()))
        try:
            pods = client.CoreV1Api(context.kube).list_namespaced_pod(
                item.metadata.namespace, label_selector=selector, _request_timeout=request_timeout(context.timeout)).items
        except (ApiException, HTTPError):
            return ""
        reasons = []
        for pod in pods:
            for status in (pod.status.container_statuses or []) if pod.status else []:
                state = status.state
                waiting = state.waiting if state else None
                terminated = state.terminated if state else None
                if waiting and waiting.reason:
                    reasons.append(f"{pod.metadata.name}/{status.name}: {waiting.reason}")
                elif terminated and terminated.reason:
                    reasons.append(f"{pod.metadata.name}/{status.name}: {terminated.reason}")
            if pod.status and pod.status.phase == "Pending" and not pod.status.container_statuses:
                reasons.append(f"{pod.metadata.name}: Pending")
        if not pods:
            reasons.append("no pods")
        return "; ".join(reasons[:5])


def _api_cause(error: Exception) -> str:
    if isinstance(error, ApiException):
        return f"HTTP {error.status} {error.reason}"
    return type(error).__name__
