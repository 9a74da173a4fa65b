"""Local mode's core/v1 subset: the replicas as Pods, and their logs.

    GET /api/v1/namespaces/{ns}/pods?labelSelector=...     PodList (TrainingClient.get_job_pods)
    GET /api/v1/namespaces/{ns}/pods/{name}                Pod
    GET /api/v1/namespaces/{ns}/pods/{name}/log            text; ?follow=true streams until the replica ends;
                                                           ?container= names the default container
    GET /api/v1/namespaces/{ns}/events                     EventList: each job's conditions as the operator's
                                                           Events (TrainingClient.get_job_logs(verbose=True))

Pods are named `<job>-<replica type>-<index>` and labelled as the Training Operator labels them, so
`get_job_pods`, `get_job_logs` and label selectors behave as in a cluster. A replica removed by
cleanPodPolicy or a deleted job has no Pod, as in a cluster.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from mlplatform import kubeapi
from mlplatform.kubeapi.discovery import discovery_of
from mlplatform.kubeapi.selectors import matcher
from mlplatform.training.engine import Engine
from mlplatform.training.local import HOST, LocalReplicas
from mlplatform.training.spec import API_VERSION, FLAVOURS, parse_job
from mlplatform.training.status import job_event, timestamp
from mlplatform.training.store import JobRecord
from mlplatform.training.topology import Replica, default_container, labels, replicas

FOLLOW_POLL_SECONDS = 0.2
CORE_RESOURCES = [   # discovery: what kubectl may ask of core v1 here
    {"name": "pods", "singularName": "pod", "namespaced": True, "kind": "Pod", "verbs": ["get", "list"],
     "shortNames": ["po"]},
    {"name": "pods/log", "singularName": "", "namespaced": True, "kind": "Pod", "verbs": ["get"]},
    {"name": "events", "singularName": "event", "namespaced": True, "kind": "Event", "verbs": ["list"],
     "shortNames": ["ev"]},
]


class LocalPods:
    def __init__(self, engine: Engine, local: LocalReplicas):
        self.engine = engine
        self.local = local

    def list(self, namespace: str) -> list[dict]:
        return [pod for record in self.engine.store.jobs(namespace=namespace) for pod, _ in self._pods(record)]

    def find(self, namespace: str, name: str) -> tuple[dict, JobRecord, Replica]:
        for record in self.engine.store.jobs(namespace=namespace):
            for pod, replica in self._pods(record):
                if pod["metadata"]["name"] == name:
                    return pod, record, replica
        raise kubeapi.NotFound(f'pods "{name}" not found')

    def events(self, namespace: str) -> list[dict]:
        return [job_event(record.kind, record.namespace, record.name, record.uid, condition)
                for record in self.engine.store.jobs(namespace=namespace)
                for condition in record.status.get("conditions") or []]

    def _pods(self, record: JobRecord):
        if not record.runtime.get("attempt"):
            return
        job = parse_job(record.manifest, FLAVOURS[record.kind])
        for replica in replicas(job):
            directory = self.local.task_dir(record, replica)
            if (directory / "spec.json").exists():
                yield self._pod(job, record, replica, directory), replica

    def _pod(self, job, record: JobRecord, replica: Replica, directory) -> dict:
        spec = job.replica_spec(replica.type)
        container = default_container(job, spec.template)
        state = self.local.observe_one(record, replica)
        created = timestamp((directory / "spec.json").stat().st_mtime)
        if state.phase == "Running":
            container_state = {"running": {"startedAt": created}}
        elif state.phase in ("Succeeded", "Failed"):
            container_state = {"terminated": {"exitCode": state.exit_code if state.exit_code is not None else 137,
                                              "reason": "Completed" if state.phase == "Succeeded" else "Error",
                                              "message": state.message or None}}
        else:
            container_state = {"waiting": {"reason": "ContainerCreating"}}
        return {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": replica.pod_name(job.name),
                "namespace": job.namespace,
                "uid": f"{record.uid}-{replica.type.lower()}-{replica.index}",
                "labels": labels(job, replica),
                "creationTimestamp": created,
                "ownerReferences": [{"apiVersion": API_VERSION, "kind": job.kind, "name": job.name,
                                     "uid": record.uid, "controller": True, "blockOwnerDeletion": True}],
            },
            "spec": {"containers": [{"name": container["name"], "image": container.get("image", "")}],
                     "restartPolicy": _pod_restart_policy(spec.restart_policy)},
            "status": {
                "phase": state.phase,
                "podIP": HOST,
                "startTime": created,
                "containerStatuses": [{"name": container["name"], "image": container.get("image", ""),
                                       "imageID": "", "ready": state.phase == "Running",
                                       "restartCount": record.runtime.get("restarts", 0),
                                       "state": container_state}],
            },
        }


def _pod_restart_policy(policy: str) -> str:
    return "Never" if policy == "ExitCode" else policy


def add_pod_routes(app: FastAPI, pods: LocalPods, access=None) -> None:
    """`access` (multi-user mode, mlplatform.training.access): guards every path."""
    base = "/api/v1/namespaces/{namespace}/pods"
    options = {"include_in_schema": False, "dependencies": access.dependencies if access else None}
    discovery_of(app, options["dependencies"]).add("", "v1", CORE_RESOURCES)

    @app.get(base, **options)
    async def list_pods(namespace: str, labelSelector: str | None = None):
        try:
            selected = matcher(labelSelector)
        except kubeapi.KubeError as error:
            return _error(error)
        items = await run_in_threadpool(pods.list, namespace)
        return {"apiVersion": "v1", "kind": "PodList", "metadata": {"resourceVersion": ""},
                "items": [pod for pod in items if selected(pod["metadata"]["labels"])]}

    @app.get("/api/v1/namespaces/{namespace}/events", **options)
    async def list_events(namespace: str):
        items = await run_in_threadpool(pods.events, namespace)
        return {"apiVersion": "v1", "kind": "EventList", "metadata": {"resourceVersion": ""}, "items": items}

    @app.get(base + "/{name}", **options)
    async def get_pod(namespace: str, name: str):
        try:
            pod, _, _ = await run_in_threadpool(pods.find, namespace, name)
        except kubeapi.KubeError as error:
            return _error(error)
        return pod

    @app.get(base + "/{name}/log", **options)
    async def pod_log(namespace: str, name: str, request: Request, container: str | None = None):
        try:
            pod, record, replica = await run_in_threadpool(pods.find, namespace, name)
            own = pod["spec"]["containers"][0]["name"]
            if container not in (None, own):
                raise kubeapi.BadRequest(f"container {container} is not valid for pod {name}")
        except kubeapi.KubeError as error:
            return _error(error)
        if (request.query_params.get("follow") or "").lower() in ("true", "1"):
            return StreamingResponse(_follow(pods.local, record, replica), media_type="text/plain")
        text, _ = await run_in_threadpool(pods.local.log_of, record, replica)
        return PlainTextResponse(text)


async def _follow(local: LocalReplicas, record: JobRecord, replica: Replica) -> AsyncIterator[bytes]:
    sent = 0
    while True:
        text, finished = await run_in_threadpool(local.log_of, record, replica)
        data = text.encode()
        if len(data) > sent:
            yield data[sent:]
            sent = len(data)
        if finished:
            return
        await asyncio.sleep(FOLLOW_POLL_SECONDS)


def _error(error: kubeapi.KubeError) -> JSONResponse:
    return JSONResponse(error.status("pods"), status_code=error.code)
