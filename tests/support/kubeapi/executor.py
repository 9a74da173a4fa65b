"""The Job executor: Jobs and their Pods run as local processes, so hook and runner Jobs really run.

When enabled:
  - a Job (not suspended, not finished) gets a Pod from its template, named <job>-<suffix>, labelled
    `job-name` and `batch.kubernetes.io/job-name`, owned by the Job. When the Pod fails, the Job gets
    another one until `failed` exceeds `backoffLimit` (retries back off from `backoff_seconds`);
    `activeDeadlineSeconds` kills the running Pod. The Job's status follows as the Job controller
    writes it: startTime, active, succeeded, failed, completionTime and the conditions
    SuccessCriteriaMet + Complete, or FailureTarget + Failed with reason BackoffLimitExceeded or
    DeadlineExceeded. Suspending a Job deletes its Pod; deleting the Job deletes its Pods.
  - a Pod whose restartPolicy is Never or OnFailure (Job pods, helm test pods) runs: init containers one
    after another, then the containers together. Each container runs `command` + `args` (no image: a
    container without a command fails) with `$(VAR)` expanded, in its `workingDir` when that exists
    here. Its env holds the literal values and `valueFrom` secretKeyRef, configMapKeyRef and fieldRef
    (metadata.name, metadata.namespace, metadata.uid, metadata.labels/annotations['...'],
    spec.serviceAccountName, spec.nodeName, status.podIP), plus `envFrom`. ConfigMap, Secret, projected,
    emptyDir and PVC volumes are directories under the server's workdir; env values and arguments that
    point into a mountPath are rewritten to that directory. The output (stdout and stderr) is the
    container's pods/log. A pod that would get a service account token gets KUBECONFIG pointing at
    this server; one with automountServiceAccountToken false gets a KUBECONFIG that does not exist.
    A missing secret or config map fails the container with CreateContainerConfigError (a real
    kubelet would wait).
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.support.kubeapi.errors import ApiError
from tests.support.kubeapi.kubelet import owner_reference, set_status
from tests.support.kubeapi.store import Store, now, random_suffix

RUNNABLE_POLICIES = ("Never", "OnFailure")
TERMINAL = ("Succeeded", "Failed")
KILL_GRACE_SECONDS = 2.0
VARIABLE_REFERENCE = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)|\$\$")


class ContainerConfigError(Exception):
    """The container cannot start: a referenced secret or config map (key) is missing."""


class JobExecutor:
    def __init__(self, server, backoff_seconds: float = 0.2):
        self.server = server
        self.enabled = False
        self.backoff_seconds = backoff_seconds
        self._lock = threading.Lock()
        self._jobs: dict[str, threading.Thread] = {}          # job uid -> its controller thread
        self._pods: dict[str, threading.Thread] = {}          # pod uid -> its runner thread
        self._processes: dict[str, list[subprocess.Popen]] = {}   # pod uid -> running processes
        self._stopping = False

    # --- reacting to the store ----------------------------------------------------------------------

    def react(self, store: Store, event) -> None:
        group_plural = event.key[:2]
        if event.type == "DELETED":
            if group_plural == ("", "pods"):
                self._kill(event.obj["metadata"]["uid"])
            return
        if not self.enabled or self._stopping:
            return
        if group_plural == ("batch", "jobs"):
            self._maybe_start_job(event.obj)
        elif group_plural == ("", "pods"):
            self._maybe_start_pod(event.obj)

    def resync(self, store: Store) -> None:
        with store.lock:
            for key, obj in list(store.objects.items()):
                if key[:2] == ("batch", "jobs"):
                    self._maybe_start_job(obj)
                elif key[:2] == ("", "pods"):
                    self._maybe_start_pod(obj)

    def stop(self) -> None:
        self._stopping = True
        with self._lock:
            uids = list(self._processes)
            threads = list(self._jobs.values()) + list(self._pods.values())
        for uid in uids:
            self._kill(uid, wait=True)
        for thread in threads:
            thread.join(timeout=KILL_GRACE_SECONDS + 1)

    def _maybe_start_job(self, job: dict) -> None:
        if job["spec"].get("suspend") or _job_finished(job):
            return
        self._start(self._jobs, job["metadata"]["uid"], self._run_job, job)

    def _maybe_start_pod(self, pod: dict) -> None:
        runnable = pod["spec"].get("restartPolicy") in RUNNABLE_POLICIES
        if runnable and (pod.get("status") or {}).get("phase", "Pending") == "Pending":
            self._start(self._pods, pod["metadata"]["uid"], self._run_pod, pod)

    def _start(self, registry: dict, uid: str, target, obj: dict) -> None:
        with self._lock:
            if uid in registry and registry[uid].is_alive():
                return
            thread = threading.Thread(target=self._guarded, args=(target, obj), daemon=True,
                                      name=f"kubeapi-{obj['kind'].lower()}-{obj['metadata']['name']}")
            registry[uid] = thread
        thread.start()

    def _guarded(self, target, obj: dict) -> None:
        try:
            target(obj)
        except ApiError as error:
            if error.code != 404:   # the object went while we worked on it: nothing left to do
                raise

    # --- the Job controller ---------------------------------------------------------------------------

    def _run_job(self, job: dict) -> None:
        store, meta = self.server.store, job["metadata"]
        jobs = store.type_of("batch/v1", "Job")
        namespace, name, uid = meta["namespace"], meta["name"], meta["uid"]
        status = dict(job.get("status") or {})
        status.setdefault("startTime", now())
        started = time.monotonic()
        deadline = job["spec"].get("activeDeadlineSeconds")
        while not self._stopping:
            job = store.find(jobs, namespace, name)
            if job is None or job["metadata"]["uid"] != uid:
                return
            if job["spec"].get("suspend"):
                self._set_job_status(job, {**status, "active": 0, "conditions": _conditions(
                    job, ("Suspended", "JobSuspended", "Job suspended"))})
                return
            pod = self._create_pod(job)
            status["active"] = 1
            self._set_job_status(job, status)
            remaining = None if deadline is None else deadline - (time.monotonic() - started)
            outcome = self._wait_for_pod(job, pod, remaining)
            job = store.find(jobs, namespace, name)
            if job is None or job["metadata"]["uid"] != uid:
                return
            status["active"] = 0
            if outcome == "Succeeded":
                status.update(succeeded=1, completionTime=now(), conditions=_conditions(
                    job, ("SuccessCriteriaMet", "CompletionsReached", "Reached expected number of succeeded pods"),
                    ("Complete", "CompletionsReached", "Reached expected number of succeeded pods")))
                self._set_job_status(job, status)
                return
            if outcome == "Suspended":
                continue
            status["failed"] = status.get("failed", 0) + 1
            if outcome == "DeadlineExceeded":
                self._fail(job, status, "DeadlineExceeded", "Job was active longer than specified deadline")
                return
            if status["failed"] > job["spec"].get("backoffLimit", 6):
                self._fail(job, status, "BackoffLimitExceeded", "Job has reached the specified backoff limit")
                return
            self._set_job_status(job, status)
            time.sleep(min(self.backoff_seconds * 2 ** (status["failed"] - 1), 5.0))

    def _fail(self, job: dict, status: dict, reason: str, message: str) -> None:
        status["conditions"] = _conditions(job, ("FailureTarget", reason, message), ("Failed", reason, message))
        self._set_job_status(job, status)

    def _set_job_status(self, job: dict, status: dict) -> None:
        set_status(self.server.store, job, {key: value for key, value in status.items() if value is not None})

    def _create_pod(self, job: dict) -> dict:
        template = job["spec"].get("template") or {}
        meta = job["metadata"]
        labels = {**((template.get("metadata") or {}).get("labels") or {}),
                  "job-name": meta["name"], "batch.kubernetes.io/job-name": meta["name"],
                  "controller-uid": meta["uid"], "batch.kubernetes.io/controller-uid": meta["uid"]}
        pod = {"apiVersion": "v1", "kind": "Pod",
               "metadata": {"name": f"{meta['name']}-{random_suffix()}", "namespace": meta["namespace"],
                            "labels": labels, "annotations": (template.get("metadata") or {}).get("annotations") or {},
                            "ownerReferences": [owner_reference(job)]},
               "spec": template.get("spec") or {}}
        return self.server.create(pod)

    def _wait_for_pod(self, job: dict, pod: dict, remaining: float | None) -> str:
        """Succeeded, Failed, DeadlineExceeded or Suspended (the pod is deleted in the last two cases)."""
        store, pods, jobs = self.server.store, self.server.resource("v1", "Pod"), self.server.resource("batch/v1", "Job")
        namespace, pod_name = pod["metadata"]["namespace"], pod["metadata"]["name"]

        def phase() -> str | None:
            found = store.find(pods, namespace, pod_name)
            return (found.get("status") or {}).get("phase") if found else "Failed"

        def suspended_or_gone() -> bool:
            found = store.find(jobs, namespace, job["metadata"]["name"])
            return found is None or bool(found["spec"].get("suspend"))

        deadline = None if remaining is None else time.monotonic() + max(remaining, 0)
        while not self._stopping:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                self._delete_pod(namespace, pod_name)
                return "DeadlineExceeded"
            store.wait_for(lambda: phase() in TERMINAL or suspended_or_gone(), timeout=min(left or 1.0, 1.0))
            if phase() in TERMINAL:
                return phase()
            if suspended_or_gone():
                self._delete_pod(namespace, pod_name)
                return "Suspended"
        return "Failed"

    def _delete_pod(self, namespace: str, name: str) -> None:
        try:
            self.server.store.delete(self.server.resource("v1", "Pod"), namespace, name)
        except ApiError as error:
            if error.code != 404:
                raise

    # --- the kubelet: running a pod ----------------------------------------------------------------------

    def _run_pod(self, pod: dict) -> None:
        meta, spec = pod["metadata"], pod["spec"]
        workdir = self.server.workdir / "pods" / f"{meta['namespace']}.{meta['name']}"
        started = now()
        set_status(self.server.store, pod, {"phase": "Running", "startTime": started, "podIP": "10.244.0.20",
                                            "conditions": [{"type": "PodScheduled", "status": "True"}]})
        try:
            volumes = self._materialise_volumes(pod, workdir)
            init_statuses, failed = [], False
            for container in spec.get("initContainers") or []:
                init_statuses.append(self._run_container(pod, container, volumes, workdir))
                failed = init_statuses[-1]["state"]["terminated"]["exitCode"] != 0
                if failed:
                    break
            statuses = [] if failed else self._run_together(pod, spec.get("containers") or [], volumes, workdir)
        finally:
            shutil.rmtree(workdir / "volumes", ignore_errors=True)
        failed = failed or any(s["state"]["terminated"]["exitCode"] != 0 for s in statuses)
        current = self.server.store.find(self.server.resource("v1", "Pod"), meta["namespace"], meta["name"])
        if current is None or current["metadata"]["uid"] != meta["uid"] or self._stopping:
            return
        status = {"phase": "Failed" if failed else "Succeeded", "containerStatuses": statuses}
        if init_statuses:
            status["initContainerStatuses"] = init_statuses
        set_status(self.server.store, current, status)

    def _run_together(self, pod: dict, containers: list[dict], volumes: dict, workdir: Path) -> list[dict]:
        results: list[dict | None] = [None] * len(containers)

        def run(index: int, container: dict) -> None:
            results[index] = self._run_container(pod, container, volumes, workdir)

        threads = [threading.Thread(target=run, args=(i, c), daemon=True) for i, c in enumerate(containers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return [result for result in results if result is not None]

    def _run_container(self, pod: dict, container: dict, volumes: dict, workdir: Path) -> dict:
        meta = pod["metadata"]
        name = container["name"]
        started = now()
        try:
            mounts = _mounts(container, volumes)
            env = self._environment(pod, container, mounts, workdir)
            argv = [_rewrite(_expand(part, env), mounts) for part in
                    (container.get("command") or []) + (container.get("args") or [])]
            if not argv:
                raise ContainerConfigError(f"container {name} has no command: the executor runs commands, "
                                           "not images")
            code, reason = self._execute(pod, name, argv, env, _working_dir(container, mounts, workdir))
        except ContainerConfigError as error:
            self.server.append_pod_log(meta["namespace"], meta["name"], name, f"{error}\n")
            code, reason = 1, "CreateContainerConfigError"
        return {"name": name, "image": container.get("image", ""), "imageID": "", "ready": False, "started": False,
                "restartCount": 0, "state": {"terminated": {"exitCode": code, "reason": reason,
                                                            "startedAt": started, "finishedAt": now()}}}

    def _execute(self, pod: dict, container: str, argv: list[str], env: dict, cwd: Path) -> tuple[int, str]:
        meta = pod["metadata"]
        uid = meta["uid"]
        try:
            process = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, start_new_session=True)
        except OSError as error:
            self.server.append_pod_log(meta["namespace"], meta["name"], container, f"cannot start {argv[0]}: {error}\n")
            return 128, "StartError"
        with self._lock:
            self._processes.setdefault(uid, []).append(process)
        for line in iter(process.stdout.readline, b""):
            self.server.append_pod_log(meta["namespace"], meta["name"], container, line.decode(errors="replace"))
        code = process.wait()
        with self._lock:
            self._processes.get(uid, []).remove(process)
        if code < 0:
            return 128 - code, "Error"   # killed by a signal: 128 + signal number, as a container runtime reports
        return code, "Completed" if code == 0 else "Error"

    def _kill(self, pod_uid: str, wait: bool = False) -> None:
        """Stop a pod's processes; in the background unless `wait` (reactors must not block the store)."""
        with self._lock:
            processes = list(self._processes.get(pod_uid, []))
        for process in processes:
            if wait:
                _terminate(process)
            else:
                threading.Thread(target=_terminate, args=(process,), daemon=True).start()

    # --- a container's world ----------------------------------------------------------------------------

    def _materialise_volumes(self, pod: dict, workdir: Path) -> dict[str, Path]:
        """volume name -> the directory that holds it."""
        directories = {}
        for volume in pod["spec"].get("volumes") or []:
            name = volume["name"]
            if "persistentVolumeClaim" in volume:
                claim = volume["persistentVolumeClaim"]["claimName"]
                path = self.server.workdir / "claims" / pod["metadata"]["namespace"] / claim
            else:
                path = workdir / "volumes" / name
            path.mkdir(parents=True, exist_ok=True)
            sources = volume["projected"].get("sources") or [] if "projected" in volume else [volume]
            for source in sources:
                self._write_source(pod, source, path)
            directories[name] = path
        return directories

    def _write_source(self, pod: dict, source: dict, path: Path) -> None:
        namespace = pod["metadata"]["namespace"]
        if "configMap" in source:
            ref = source["configMap"]
            found = self._referenced("v1", "ConfigMap", namespace, ref.get("name"), ref.get("optional"))
            files = {**(found or {}).get("data", {}),
                     **{k: base64.b64decode(v) for k, v in ((found or {}).get("binaryData") or {}).items()}}
        elif "secret" in source:
            ref = source["secret"]
            name = ref.get("secretName") or ref.get("name")
            found = self._referenced("v1", "Secret", namespace, name, ref.get("optional"))
            files = {k: base64.b64decode(v) for k, v in ((found or {}).get("data") or {}).items()}
        else:
            return
        items = ref.get("items")
        chosen = [(item["key"], item["path"]) for item in items] if items else [(key, key) for key in files]
        for key, relative in chosen:
            if key not in files:
                if ref.get("optional"):
                    continue
                raise ContainerConfigError(f"volume source {ref.get('name') or ref.get('secretName')}: key {key} "
                                           "not found")
            target = path / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            content = files[key]
            target.write_bytes(content if isinstance(content, bytes) else str(content).encode())

    def _referenced(self, api_version: str, kind: str, namespace: str, name: str | None, optional: bool | None):
        found = self.server.get(api_version, kind, name or "", namespace)
        if found is None and not optional:
            raise ContainerConfigError(f'{kind.lower()} "{name}" not found in namespace {namespace}')
        return found

    def _environment(self, pod: dict, container: dict, mounts: list[tuple[str, Path]], workdir: Path) -> dict:
        env = {key: value for key, value in os.environ.items()
               if key not in ("KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT")}
        # The platform image's programs (mlp, mlserver, mlflow) are this Python's console scripts here.
        env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", os.defpath)])
        env["KUBECONFIG"] = str(self.server.kubeconfig if self._gets_token(pod) else workdir / "no-service-account-token")
        env["HOSTNAME"] = pod["metadata"]["name"]
        namespace = pod["metadata"]["namespace"]
        for source in container.get("envFrom") or []:
            prefix = source.get("prefix", "")
            if "configMapRef" in source:
                ref = source["configMapRef"]
                found = self._referenced("v1", "ConfigMap", namespace, ref.get("name"), ref.get("optional"))
                env.update({prefix + k: v for k, v in ((found or {}).get("data") or {}).items()})
            elif "secretRef" in source:
                ref = source["secretRef"]
                found = self._referenced("v1", "Secret", namespace, ref.get("name"), ref.get("optional"))
                env.update({prefix + k: base64.b64decode(v).decode() for k, v in ((found or {}).get("data") or {}).items()})
        for variable in container.get("env") or []:
            value = self._variable(pod, variable, env)
            if value is not None:
                env[variable["name"]] = _rewrite(value, mounts)
        return env

    def _gets_token(self, pod: dict) -> bool:
        spec = pod["spec"]
        if "automountServiceAccountToken" in spec:
            return bool(spec["automountServiceAccountToken"])
        account = self.server.get("v1", "ServiceAccount", spec.get("serviceAccountName") or "default",
                                  pod["metadata"]["namespace"])
        return (account or {}).get("automountServiceAccountToken", True) is not False

    def _variable(self, pod: dict, variable: dict, env: dict) -> str | None:
        if "valueFrom" not in variable:
            return _expand(str(variable.get("value", "")), env)
        source = variable["valueFrom"]
        namespace = pod["metadata"]["namespace"]
        if "secretKeyRef" in source or "configMapKeyRef" in source:
            secret = "secretKeyRef" in source
            ref = source["secretKeyRef" if secret else "configMapKeyRef"]
            found = self._referenced("v1", "Secret" if secret else "ConfigMap", namespace, ref.get("name"),
                                     ref.get("optional"))
            data = (found or {}).get("data") or {}
            if ref["key"] not in data:
                if ref.get("optional"):
                    return None
                raise ContainerConfigError(f"couldn't find key {ref['key']} in {'Secret' if secret else 'ConfigMap'} "
                                           f"{namespace}/{ref.get('name')}")
            return base64.b64decode(data[ref["key"]]).decode() if secret else data[ref["key"]]
        if "fieldRef" in source:
            return _field(pod, source["fieldRef"]["fieldPath"])
        if "resourceFieldRef" in source:
            return "1"
        return None


def _job_finished(job: dict) -> bool:
    return any(c.get("type") in ("Complete", "Failed") and c.get("status") == "True"
               for c in (job.get("status") or {}).get("conditions") or [])


def _conditions(job: dict, *wanted: tuple[str, str, str]) -> list[dict]:
    kept = [c for c in (job.get("status") or {}).get("conditions") or [] if c.get("type") not in {w[0] for w in wanted}]
    stamp = now()
    return kept + [{"type": kind, "status": "True", "reason": reason, "message": message,
                    "lastProbeTime": stamp, "lastTransitionTime": stamp} for kind, reason, message in wanted]


def _field(pod: dict, path: str) -> str:
    meta = pod["metadata"]
    label = re.fullmatch(r"metadata\.(labels|annotations)\['(.+)'\]", path)
    if label:
        return (meta.get(label.group(1)) or {}).get(label.group(2), "")
    known = {"metadata.name": meta["name"], "metadata.namespace": meta["namespace"], "metadata.uid": meta["uid"],
             "spec.serviceAccountName": pod["spec"].get("serviceAccountName", "default"),
             "spec.nodeName": "kubeapi-test-node", "status.podIP": "10.244.0.20", "status.hostIP": "172.18.0.2"}
    if path not in known:
        raise ContainerConfigError(f"fieldRef {path} is not supported")
    return known[path]


def _expand(text: str, env: dict) -> str:
    """Kubernetes' $(VAR) expansion: known variables are replaced, unknown ones stay, $$ is a literal $."""
    def replace(match):
        if match.group(0) == "$$":
            return "$"
        return env.get(match.group(1), match.group(0))
    return VARIABLE_REFERENCE.sub(replace, text)


def _mounts(container: dict, volumes: dict[str, Path]) -> list[tuple[str, Path]]:
    """(mountPath, local path) pairs, longest mountPath first."""
    mounts = []
    for mount in container.get("volumeMounts") or []:
        if mount["name"] not in volumes:
            raise ContainerConfigError(f"volumeMount {mount['name']} names no volume of the pod")
        local = volumes[mount["name"]] / mount["subPath"] if mount.get("subPath") else volumes[mount["name"]]
        mounts.append((mount["mountPath"].rstrip("/") or "/", local))
    return sorted(mounts, key=lambda pair: len(pair[0]), reverse=True)


def _rewrite(text: str, mounts: list[tuple[str, Path]]) -> str:
    """Point paths inside a mountPath at the local directory that stands for it (in one pass, so a
    rewritten path is never rewritten again by a shorter mountPath such as /tmp)."""
    locals_by_path = {mount_path: str(local) for mount_path, local in mounts if mount_path != "/"}
    if not locals_by_path:
        return text
    alternatives = "|".join(re.escape(path) for path in locals_by_path)   # longest first, as _mounts sorts
    pattern = r"(?<![\w./-])(" + alternatives + r")(?=/|$|[\s\"'=:;,])"
    return re.sub(pattern, lambda match: locals_by_path[match.group(1)], text)


def _working_dir(container: dict, mounts: list[tuple[str, Path]], workdir: Path) -> Path:
    wanted = container.get("workingDir")
    if wanted:
        rewritten = Path(_rewrite(wanted, mounts))
        if rewritten.is_dir():
            return rewritten
    workdir.mkdir(parents=True, exist_ok=True)
    return workdir


def _terminate(process: subprocess.Popen) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=KILL_GRACE_SECONDS)
            return
        except subprocess.TimeoutExpired:
            continue
