"""The rollout target for a Helm release: each step is a `helm upgrade` (through pyhelm3) gated by the
chart's post-upgrade `canary-analysis` hook.

A step's upgrade runs with `--wait --wait-for-jobs` and `--atomic` (Helm 4: `--rollback-on-failure`),
so a failed analysis hook makes Helm itself roll the step back to the previous revision; the driver
then aborts with one more upgrade. Every step, the abort and the promotion are release revisions, and
`helm history` shows each with its description ("mlp canary: step 2/4 weight 25%").
"""

from __future__ import annotations

from pathlib import Path

from mlplatform.canary.plan import model_server
from mlplatform.canary.rollout import Progress, StepOutcome
from mlplatform.errors import MlpError
from mlplatform.release.helm import ReleaseContext

HOOK_LABEL = "mlplatform.io/hook=canary-analysis"
LOG_LINES = 20


class ReleaseTarget:
    def __init__(self, context: ReleaseContext, chart: Path, values_files: tuple[Path, ...] = (),
                 timeout: str = "15m"):
        self.context = context
        self.chart = chart
        self.values_files = values_files
        self.timeout = timeout
        self.name = f"release {context.release} (namespace {context.namespace or 'default'})"

    def values(self) -> dict:
        """The release's user values (`helm get values`), the --values files over them: what steps change."""
        return self._with_files(self.context.values())

    def current(self) -> dict:
        """What the release runs: its computed values (chart defaults included), the --values files over them."""
        return self._with_files(self.context.values(computed=True))

    def _with_files(self, values: dict) -> dict:
        from mlplatform.hooks.config import merge_values, read_values

        for path in self.values_files:
            values = merge_values(values, read_values(path))
        return values

    def apply_step(self, values: dict, label: str, progress: Progress) -> StepOutcome:
        if ((values.get("hooks") or {}).get("canaryAnalysis") or {}).get("enabled") is False:
            progress(f"{label}: warning: hooks.canaryAnalysis.enabled is false, so no analysis gates this step")
        progress(f"{label}: helm upgrade {self.context.release}; the canary-analysis hook gates it "
                 f"({_analysis_span(values)})")
        try:
            release = self.context.upgrade(self.chart, values, description=f"mlp canary: {label}",
                                           timeout=self.timeout)
        except MlpError as error:
            return StepOutcome(False, f"{error}; helm rolled the step back", revision=self._revision(),
                               analysis=self._hook_log())
        return StepOutcome(True, "the canary-analysis hook passed", revision=release.get("version"))

    def apply(self, values: dict, label: str, progress: Progress) -> int | None:
        progress(f"{label}: helm upgrade {self.context.release}")
        return self.context.upgrade(self.chart, values, description=f"mlp canary: {label}",
                                    timeout=self.timeout).get("version")

    def weight(self) -> int:
        return release_router(self.context, self.context.values(computed=True)).get_weight()

    def revisions(self) -> list[dict]:
        """The release's revisions, oldest first: each canary step, Helm's rollbacks, the abort or the
        promotion, described ("mlp canary: step 2/4 weight 25%"). The rollout's record, kept in the cluster."""
        return [{key: entry.get(key) for key in ("revision", "status", "description", "updated")}
                for entry in self.context.history()]

    def _revision(self) -> int | None:
        try:
            revisions = self.revisions()
        except MlpError:
            return None
        return revisions[-1]["revision"] if revisions else None

    def _hook_log(self) -> dict | None:
        """The tail of the failed analysis hook's log (Helm keeps a failed hook Job), for the report."""
        from kubernetes import client
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import HTTPError

        from mlplatform.kube import api_client

        try:
            with api_client(self.context.kubeconfig, self.context.kube_context) as api:
                core = client.CoreV1Api(api)
                selector = f"{HOOK_LABEL},app.kubernetes.io/instance={self.context.release}"
                pods = core.list_namespaced_pod(self._namespace(), label_selector=selector).items
                if not pods:
                    return None
                pod = max(pods, key=lambda item: item.metadata.creation_timestamp)
                log = core.read_namespaced_pod_log(pod.metadata.name, self._namespace())
        except (ApiException, HTTPError, MlpError) as error:  # a convenience: never hide the step's outcome
            return {"hook_log_unavailable": f"{type(error).__name__}: {error}"[:200]}
        return {"hook_pod": pod.metadata.name, "hook_log": log.splitlines()[-LOG_LINES:]}

    def _namespace(self) -> str:
        from mlplatform.kube import current_namespace

        return self.context.namespace or current_namespace()


def _analysis_span(values: dict) -> str:
    analysis = (model_server(values).get("canary") or {}).get("analysis") or {}
    interval, iterations = analysis.get("intervalSeconds"), analysis.get("iterations")
    if interval and iterations:
        return f"{iterations} checks every {interval}s"
    return "the chart's analysis settings"


def release_router(context: ReleaseContext, computed_values: dict):
    """The release's traffic router (modelServer.router.type), to read the live weight."""
    from mlplatform.kube import api_client, current_namespace
    from mlplatform.routers import RouterContext, open_router

    router_context = RouterContext(release=context.release, namespace=context.namespace or current_namespace(),
                                   api_client=api_client(context.kubeconfig, context.kube_context))
    return open_router(model_server(computed_values), router_context)
