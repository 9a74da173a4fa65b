"""Optional end-to-end smoke runs (hooks.validate.smoke): a one-task pipeline and a 2-trial experiment.

Both run in the platform image in a cluster (MLP_TASK_IMAGE) and in the local environment in local mode.
No `from __future__ import annotations` here: kfp reads the component's real annotations.
"""

import contextlib
import io
import os
import sys
import tempfile
import time
import uuid

import requests
from kfp import compiler, dsl

from mlplatform.checks.base import Check, CheckContext, CheckResult
from mlplatform.checks.health import describe_failure
from mlplatform.errors import MlpError
from mlplatform.hooks.config import hook_namespace
from mlplatform.hooks.pipelines import api_error_line, caller_token, kfp_client

PLATFORM_IMAGE = os.environ.get("MLP_TASK_IMAGE", "ghcr.io/mlplatform/mlplatform:0.1.0")
RUN_TIMEOUT_SECONDS = 120


@dsl.component(base_image=PLATFORM_IMAGE)
def smoke_add(a: float, b: float) -> float:
    return a + b


@dsl.pipeline(name="mlplatform-smoke", description="validate: one task that adds two numbers")
def smoke_pipeline(a: float = 1.0, b: float = 2.0):
    smoke_add(a=a, b=b)


class SmokePipelineCheck(Check):
    name = "smoke-pipeline"
    description = "a one-task pipeline run end to end"

    def skip_reason(self, context: CheckContext):
        if not context.smoke.get("pipeline"):
            return "switched off (hooks.validate.smoke.pipeline)"
        return None if context.endpoints.has("pipeline-controller") else "no pipeline controller in this platform"

    def run(self, context: CheckContext) -> list[CheckResult]:
        from kfp_server_api.exceptions import ApiException

        host = context.endpoints.url("pipeline-controller")
        token = caller_token(context.values, "pipelineController")
        namespace = hook_namespace(context.config) if token else None   # multi-user: the release's namespace
        try:
            client = kfp_client(host, token)
            with tempfile.TemporaryDirectory() as workdir:
                package = f"{workdir}/smoke.yaml"
                compiler.Compiler().compile(smoke_pipeline, package)
                with contextlib.redirect_stdout(io.StringIO()):  # the SDK prints "Run details: <url>"
                    run = client.create_run_from_pipeline_package(
                        package, arguments={"a": 1.0, "b": 2.0}, run_name=f"validate-smoke-{uuid.uuid4().hex[:8]}",
                        experiment_name="mlplatform-validate", namespace=namespace)
            finished = client.wait_for_run_completion(run.run_id, timeout=RUN_TIMEOUT_SECONDS)
        except ApiException as error:
            return [self.failed("pipeline-controller", f"smoke pipeline: {api_error_line(error)}")]
        except MlpError as error:
            return [self.failed("pipeline-controller", f"smoke pipeline: {error}")]
        except Exception as error:  # noqa: BLE001 - any failure of the run is the finding
            return [self.failed("pipeline-controller", f"smoke pipeline: {type(error).__name__}: {error}"[:300])]
        state = str(getattr(finished, "state", "?"))
        if state != "SUCCEEDED":
            return [self.failed("pipeline-controller", f"smoke pipeline run {run.run_id} ended {state}"
                                + (f": {run_error(finished)}" if run_error(finished) else ""))]
        return [self.passed("pipeline-controller", f"smoke pipeline run {run.run_id} succeeded")]


def run_error(run) -> str:
    """The first error message a finished run carries: its own, else a task's."""
    if getattr(run, "error", None) and run.error.message:
        return run.error.message
    for task in getattr(getattr(run, "run_details", None), "task_details", None) or []:
        if getattr(task, "error", None) and task.error.message:
            return f"task {task.display_name}: {task.error.message}"
    return ""


def smoke_experiment(name: str, python: str, namespace: str | None = None) -> dict:
    """A Katib Experiment with 2 trials whose score peaks at x = 0.5 (in `namespace`, else the service's default)."""
    program = "x = float('${trialParameters.x}'); print('score=%f' % (1 - abs(x - 0.5)))"
    return {
        "apiVersion": "kubeflow.org/v1beta1",
        "kind": "Experiment",
        "metadata": {"name": name, **({"namespace": namespace} if namespace else {})},
        "spec": {
            "objective": {"type": "maximize", "objectiveMetricName": "score"},
            "algorithm": {"algorithmName": "random"},
            "parallelTrialCount": 2,
            "maxTrialCount": 2,
            "maxFailedTrialCount": 0,
            "parameters": [{"name": "x", "parameterType": "double", "feasibleSpace": {"min": "0", "max": "1"}}],
            "metricsCollectorSpec": {"collector": {"kind": "StdOut"}},
            "trialTemplate": {
                "primaryContainerName": "trial",
                "trialParameters": [{"name": "x", "reference": "x"}],
                "trialSpec": {"apiVersion": "batch/v1", "kind": "Job", "spec": {"template": {"spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "trial", "image": PLATFORM_IMAGE, "command": [python, "-c", program]}],
                }}}},
            },
        },
    }


def _condition(status: dict, kind: str) -> bool:
    return any(c.get("type") == kind and str(c.get("status")) == "True" for c in status.get("conditions") or [])


class SmokeExperimentCheck(Check):
    name = "smoke-experiment"
    description = "a 2-trial tuning experiment end to end"

    def skip_reason(self, context: CheckContext):
        if not context.smoke.get("experiment"):
            return "switched off (hooks.validate.smoke.experiment)"
        return None if context.endpoints.has("tuning-service") else "no tuning service in this platform"

    def run(self, context: CheckContext) -> list[CheckResult]:
        base = context.endpoints.url("tuning-service")
        name = f"validate-smoke-{uuid.uuid4().hex[:8]}"
        python = sys.executable if context.config.is_local else "python3"
        token = caller_token(context.values, "tuningService")
        namespace = hook_namespace(context.config) if token else None   # multi-user: the release's namespace
        try:
            headers = token.headers() if token else {}
            created = requests.post(f"{base}/api/v1/experiments", json=smoke_experiment(name, python, namespace),
                                    headers=headers, timeout=context.timeout)
            if created.status_code >= 300:
                return [self.failed("tuning-service", f"smoke experiment refused: HTTP {created.status_code} "
                                                      f"{created.text[:200]}")]
            status = self._wait(base, name, namespace, context.timeout, headers)
        except requests.RequestException as error:
            return [self.failed("tuning-service", f"smoke experiment {name}: {describe_failure(error)}")]
        except MlpError as error:
            return [self.failed("tuning-service", f"smoke experiment {name}: {error}")]
        if _condition(status, "Succeeded"):
            return [self.passed("tuning-service", f"smoke experiment {name}: "
                                                  f"{status.get('trialsSucceeded', '?')} trials succeeded")]
        reason = next((c.get("message") or c.get("reason") for c in status.get("conditions") or []
                       if c.get("type") == "Failed"), None)
        return [self.failed("tuning-service", f"smoke experiment {name}: " + (reason or "did not succeed in time"))]

    @staticmethod
    def _wait(base: str, name: str, namespace: str | None, timeout: float, headers: dict) -> dict:
        deadline = time.monotonic() + RUN_TIMEOUT_SECONDS
        status: dict = {}
        while time.monotonic() < deadline:
            response = requests.get(f"{base}/api/v1/experiments/{name}", params={"namespace": namespace} if namespace else None,
                                    headers=headers, timeout=timeout)
            response.raise_for_status()
            status = response.json().get("status") or {}
            if _condition(status, "Succeeded") or _condition(status, "Failed"):
                return status
            time.sleep(0.5)
        return status
