"""The Kubernetes runner: one batch/v1 Job per task, through the official client.

The Job runs the task's image, command, env and resources (requests and limits) with restartPolicy
Never and backoffLimit 0: retries belong to the caller, who sees every attempt. A `job_manifest`
(Katib trial Jobs) is created as given, renamed and labelled.

Artifact staging (`TaskSpec.artifact_staging`, a pipeline launcher manifest) adds, all from the
platform image (MLP_TASK_IMAGE), so the task's own image needs nothing of ours but /bin/sh:
  - init container `mlp-download`: fetches the input artifacts into the `/s3` emptyDir;
  - the task's container: its command, wrapped to record its exit code in the `/mlp` emptyDir;
  - container `mlp-upload`: waits for that exit code, then uploads the output artifacts and output files.
S3 settings come from the controller's environment: MLP_S3_ENDPOINT, and the credentials either from the
secret named by MLP_S3_SECRET (keys root-user and root-password, as the MinIO chart writes them) or,
without it, copied from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.

Cancelling suspends the Job (Kubernetes deletes its pods) and marks it, so it reports CANCELLED.
"""

from __future__ import annotations

import copy
import os
import time

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from mlplatform.kube import api_client as default_api_client
from mlplatform.kube import current_namespace
from mlplatform.runners import kfp_platform
from mlplatform.runners.base import Resources, Runner, TaskNotFound, TaskSpec, TaskState, TaskStatus

DEFAULT_TASK_IMAGE = "ghcr.io/mlplatform/mlplatform:0.1.0"
MANAGED_BY = {"app.kubernetes.io/managed-by": "mlplatform-runner"}
TASK_LABEL = "mlplatform.io/task"
CANCELLED_ANNOTATION = "mlplatform.io/cancelled"
MAIN_CONTAINER = "main"
S3_MOUNT, IO_MOUNT = "/s3", "/mlp"
LAUNCHER = ["python", "-m", "mlplatform.pipelines.launcher"]
# Run the task's argv, then record its exit code where the uploader waits for it.
EXIT_CODE_WRAPPER = (
    'mkdir -p /mlp/outputs; "$@"; code=$?; echo $code > /mlp/exit_code.tmp; '
    "mv /mlp/exit_code.tmp /mlp/exit_code; exit $code"
)


def profile_service_account(release: str, namespace: str) -> str:
    """The ServiceAccount values.profiles makes for a namespace's tasks and trials, `<release>-<profile>-runner`
    (charts/mlplatform/templates/profiles.yaml: the prefix cut at 50 characters)."""
    return f"{release}-{namespace}"[:50].rstrip("-") + "-runner"


class KubernetesRunner(Runner):
    kind = "kubernetes"

    def __init__(
        self,
        namespace: str | None = None,
        api_client: client.ApiClient | None = None,
        task_image: str | None = None,
        service_account: str | None = None,
        poll_seconds: float = 1.0,
    ):
        self.namespace = namespace or current_namespace()
        self.api_client = api_client or default_api_client()
        self.batch = client.BatchV1Api(self.api_client)
        self.core = client.CoreV1Api(self.api_client)
        self.task_image = task_image or os.environ.get("MLP_TASK_IMAGE") or DEFAULT_TASK_IMAGE
        self.service_account = (
            service_account if service_account is not None else os.environ.get("MLP_TASK_SERVICE_ACCOUNT", "")
        )
        self.poll_seconds = poll_seconds

    def in_namespace(self, namespace: str) -> KubernetesRunner:
        """This runner acting in `namespace` (multi-user mode: a profile's namespace), sharing its API clients."""
        view = copy.copy(self)
        view.namespace = namespace
        return view

    # --- the interface -------------------------------------------------------------------------

    def start(self, spec: TaskSpec) -> None:
        job = self.job_for(spec)
        try:
            self.batch.create_namespaced_job(self.namespace, job)
        except ApiException as error:
            if error.status == 409:
                raise ValueError(f"task {spec.name} already exists") from None
            raise

    def status(self, name: str) -> TaskStatus:
        job = self._read(name)
        annotations = job.metadata.annotations or {}
        status = job.status or client.V1JobStatus()
        started = status.start_time.timestamp() if status.start_time else None
        finished = status.completion_time.timestamp() if status.completion_time else None
        if annotations.get(CANCELLED_ANNOTATION) == "true":
            return TaskStatus(
                TaskState.CANCELLED,
                reason="Cancelled",
                message="cancelled",
                started_at=started,
                finished_at=finished or time.time(),
            )
        for condition in status.conditions or []:
            if condition.status != "True":
                continue
            at = condition.last_transition_time.timestamp() if condition.last_transition_time else None
            if condition.type == "Complete":
                return TaskStatus(
                    TaskState.SUCCEEDED,
                    exit_code=0,
                    reason="Completed",
                    started_at=started,
                    finished_at=finished or at,
                )
            if condition.type == "Failed":
                exit_code, detail = self._main_termination(name)
                reason = "DeadlineExceeded" if condition.reason == "DeadlineExceeded" else "Error"
                message = detail or condition.message or condition.reason or "the Job failed"
                return TaskStatus(
                    TaskState.FAILED,
                    exit_code=exit_code,
                    reason=reason,
                    message=message,
                    started_at=started,
                    finished_at=at,
                )
        if status.active:
            return TaskStatus(TaskState.RUNNING, started_at=started)
        return TaskStatus(TaskState.PENDING, started_at=started)

    def wait(self, name: str, timeout: float | None = None) -> TaskStatus:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            current = self.status(name)
            if current.state.finished or (deadline is not None and time.monotonic() >= deadline):
                return current
            time.sleep(self.poll_seconds)

    def logs(self, name: str) -> str:
        self._read(name)
        parts = []
        for pod in self._pods(name):
            containers = [c.name for c in (pod.spec.init_containers or [])] + [
                c.name for c in pod.spec.containers
            ]
            for container in containers:
                try:
                    text = self.core.read_namespaced_pod_log(
                        pod.metadata.name, self.namespace, container=container
                    )
                except ApiException:
                    continue
                if text:
                    parts.append(text if container == MAIN_CONTAINER else f"[{container}] {text}")
        return "".join(part if part.endswith("\n") else part + "\n" for part in parts)

    def cancel(self, name: str) -> None:
        if self.status(name).state.finished:
            return
        patch = {"metadata": {"annotations": {CANCELLED_ANNOTATION: "true"}}, "spec": {"suspend": True}}
        self.batch.patch_namespaced_job(name, self.namespace, patch)

    def delete(self, name: str) -> None:
        try:
            self.batch.delete_namespaced_job(name, self.namespace, propagation_policy="Background")
        except ApiException as error:
            if error.status != 404:
                raise

    def names(self) -> list[str]:
        jobs = self.batch.list_namespaced_job(self.namespace, label_selector=_selector(MANAGED_BY))
        return sorted(job.metadata.name for job in jobs.items)

    def queue_depth(self) -> int:
        jobs = self.batch.list_namespaced_job(self.namespace, label_selector=_selector(MANAGED_BY))
        return sum(
            1
            for job in jobs.items
            if not (job.status and (job.status.active or job.status.succeeded or job.status.failed))
        )

    # --- building Jobs -------------------------------------------------------------------------

    def job_for(self, spec: TaskSpec) -> dict:
        """The Job (as a manifest) that runs `spec`."""
        labels = {**MANAGED_BY, TASK_LABEL: spec.name, **spec.labels}
        if spec.job_manifest is not None:
            job = copy.deepcopy(spec.job_manifest)
            job.setdefault("metadata", {}).update(name=spec.name, namespace=self.namespace)
            job["metadata"]["labels"] = {**job["metadata"].get("labels", {}), **labels}
            return job
        pod = {"restartPolicy": "Never", "containers": [self._main_container(spec)]}
        if self.service_account:
            pod["serviceAccountName"] = self.service_account
        if spec.artifact_staging:
            self._add_staging(pod, spec.artifact_staging)
        job_spec = {"backoffLimit": 0, "template": {"metadata": {"labels": labels}, "spec": pod}}
        if spec.timeout_seconds:
            job_spec["activeDeadlineSeconds"] = int(spec.timeout_seconds)
        job = {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": spec.name, "namespace": self.namespace, "labels": labels},
            "spec": job_spec,
        }
        if spec.platform_config:
            kfp_platform.apply(job, spec.platform_config)
        return job

    # --- kfp-kubernetes CreatePVC / DeletePVC --------------------------------------------------

    def create_pvc(self, name: str, inputs: dict) -> str:
        """Create the PersistentVolumeClaim CreatePVC describes; returns its name."""
        claim = kfp_platform.persistent_volume_claim(name, inputs)
        claim["metadata"]["labels"] = dict(MANAGED_BY)
        try:
            self.core.create_namespaced_persistent_volume_claim(self.namespace, claim)
        except ApiException as error:
            if error.status != 409:  # created before a controller restart: the same claim
                raise
        return name

    def create_workspace(self, name: str, workspace: dict) -> str:
        """Create a run's PipelineConfig workspace claim (a ValueError names a bad pvcSpecPatch field)."""
        return self.create_pvc(name, kfp_platform.workspace_claim_inputs(workspace))

    def delete_pvc(self, name: str) -> None:
        try:
            self.core.delete_namespaced_persistent_volume_claim(name, self.namespace)
        except ApiException as error:
            if error.status != 404:
                raise

    def _main_container(self, spec: TaskSpec) -> dict:
        container = {
            "name": MAIN_CONTAINER,
            "image": spec.image or self.task_image,
            "command": list(spec.command),
            "env": [{"name": key, "value": value} for key, value in spec.env.items()],
        }
        resources = _resources(spec.resources)
        if resources:
            container["resources"] = resources
        if spec.workdir:
            container["workingDir"] = spec.workdir
        return container

    def _add_staging(self, pod: dict, manifest: str) -> None:
        s3_env = self._s3_env()
        volumes = [{"name": "mlp-s3", "emptyDir": {}}, {"name": "mlp-io", "emptyDir": {}}]
        both_mounts = [{"name": "mlp-s3", "mountPath": S3_MOUNT}, {"name": "mlp-io", "mountPath": IO_MOUNT}]
        main = pod["containers"][0]
        main["command"] = ["sh", "-c", EXIT_CODE_WRAPPER, "sh", *main["command"]]
        main["volumeMounts"] = both_mounts
        pod["volumes"] = volumes
        pod["initContainers"] = [
            {
                "name": "mlp-download",
                "image": self.task_image,
                "command": [*LAUNCHER, "download", "--manifest", manifest],
                "env": s3_env,
                "volumeMounts": [{"name": "mlp-s3", "mountPath": S3_MOUNT}],
            }
        ]
        pod["containers"].append(
            {
                "name": "mlp-upload",
                "image": self.task_image,
                "command": [*LAUNCHER, "upload", "--manifest", manifest],
                "env": s3_env,
                "volumeMounts": both_mounts,
            }
        )

    @staticmethod
    def _s3_env() -> list[dict]:
        env = [{"name": "MLP_S3_ENDPOINT", "value": os.environ.get("MLP_S3_ENDPOINT", "")}]
        secret = os.environ.get("MLP_S3_SECRET")
        for variable, key in (("AWS_ACCESS_KEY_ID", "root-user"), ("AWS_SECRET_ACCESS_KEY", "root-password")):
            if secret:
                env.append({"name": variable, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}})
            elif os.environ.get(variable):
                env.append({"name": variable, "value": os.environ[variable]})
        return env

    # --- reading -------------------------------------------------------------------------------

    def _read(self, name: str):
        try:
            return self.batch.read_namespaced_job(name, self.namespace)
        except ApiException as error:
            if error.status == 404:
                raise TaskNotFound(name) from None
            raise

    def _pods(self, name: str) -> list:
        pods = self.core.list_namespaced_pod(self.namespace, label_selector=f"job-name={name}")
        return sorted(pods.items, key=lambda pod: pod.metadata.creation_timestamp or 0)

    def _main_termination(self, name: str) -> tuple[int | None, str]:
        """The task container's exit code and reason, when its pod still exists."""
        for pod in reversed(self._pods(name)):
            for container in (pod.status.container_statuses or []) if pod.status else []:
                terminated = container.state.terminated if container.state else None
                if container.name == MAIN_CONTAINER and terminated is not None:
                    detail = f"exited with code {terminated.exit_code}" + (
                        f" ({terminated.reason})" if terminated.reason else ""
                    )
                    return terminated.exit_code, detail
        return None, ""


def _resources(resources: Resources | None) -> dict:
    if resources is None:
        return {}
    requests = {
        key: value
        for key, value in (("cpu", resources.cpu_request), ("memory", resources.memory_request))
        if value
    }
    limits = {
        key: value
        for key, value in (("cpu", resources.cpu_limit), ("memory", resources.memory_limit))
        if value
    }
    if resources.accelerator_type and resources.accelerator_count:
        limits[resources.accelerator_type] = str(resources.accelerator_count)
    return {key: value for key, value in (("requests", requests), ("limits", limits)) if value}


def _selector(labels: dict[str, str]) -> str:
    return ",".join(f"{key}={value}" for key, value in labels.items())
