"""Local mode's lifecycle: `up` starts the platform, `status` probes it, `down` stops it.

`up` plans every process (free ports, config files), starts them all at once, waits for each to be
healthy in parallel, creates the buckets, writes endpoints.json and applies the initial model-server
values. If anything fails it stops what it started. A component whose binary or module is missing
is reported and left out; the rest starts.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from pathlib import Path

from mlplatform.endpoints import Endpoints
from mlplatform.errors import ConfigError, MissingBinary, MlpError
from mlplatform.hooks.config import merge_values
from mlplatform.kubeapi.kubeconfig import write_kubeconfig
from mlplatform.local import supervisor
from mlplatform.local.components import CATALOGUE, COMPONENT_NAMES, nginx, prometheus, s3, with_requirements
from mlplatform.local.components.base import Launch, Unavailable
from mlplatform.local.components.services import TRAINING, TUNING
from mlplatform.local.model_values import ModelServerValues, apply_model_server_values
from mlplatform.local.state import StateDir
from mlplatform.local.supervisor import ProcessRecord

Report = Callable[[str], None]

# What a fresh local platform serves: nothing yet, routed by local mode's nginx.
LOCAL_VALUES = {"modelServer": {"models": [], "canary": {"enabled": False, "weight": 0, "models": []},
                                "router": {"type": "local-nginx"}}}


@dataclass(frozen=True)
class UpOptions:
    components: tuple[str, ...] = COMPONENT_NAMES
    scrape_interval: float = 5.0          # Prometheus scrape and rule evaluation interval, seconds
    values: dict = field(default_factory=dict)   # initial release values (modelServer shape)
    timeout: float = 180.0                # seconds each process gets to become healthy
    auth_tokens: Path | None = None       # token mode of the pipeline controller and tuning service (else none)


@dataclass(frozen=True)
class ProcessStatus:
    name: str
    pid: int | None
    state: str           # healthy | unhealthy | exited | not started
    detail: str          # the health URL, or why it is not healthy
    log: str | None

    @property
    def healthy(self) -> bool:
        return self.state == "healthy"


def up(state_dir: Path | str, options: UpOptions = UpOptions(), report: Report = print) -> Endpoints:
    state = StateDir.at(state_dir)
    _refuse_if_running(state)
    unknown = sorted(set(options.components) - set(COMPONENT_NAMES))
    if unknown:
        raise ConfigError(f"unknown components {unknown}; known: {', '.join(COMPONENT_NAMES)}")
    values = local_values(options.values)
    _clear(state)
    launch = Launch(state=state, scrape_interval=options.scrape_interval, parallel_workers=_parallel_workers(values),
                    env={}, auth_args=_auth_args(options.auth_tokens))
    unavailable = _plan(launch, options.components, report)
    records = _start(state, launch, unavailable)
    try:
        _wait_healthy(records, launch, options.timeout, report)
        endpoints = _endpoints(state, launch)
        endpoints.write(state.endpoints_file)
        apply_model_server_values(state.root, values, report=report)
    except BaseException:
        report("stopping the processes that started")
        supervisor.stop_all(state.root, records)
        state.endpoints_file.unlink(missing_ok=True)   # processes.json stays: `status` shows what failed
        raise
    return endpoints


def local_values(given: dict) -> dict:
    """The release values local mode starts with: LOCAL_VALUES under `given`, routed by local-nginx."""
    values = merge_values(LOCAL_VALUES, given or {})
    values["modelServer"]["router"] = {**(values["modelServer"].get("router") or {}), "type": "local-nginx"}
    ModelServerValues.from_values(values)   # refuse bad values before anything starts
    return values


def _auth_args(tokens: Path | None) -> tuple[str, ...]:
    """Token mode (docs/security.md): both services ask every request for a token of `tokens`."""
    return ("--auth-mode", "token", "--auth-tokens", str(tokens)) if tokens else ()


def _parallel_workers(values: dict) -> int:
    """MLServer's parallel inference workers: the chart's modelServer.mlserver.parallelWorkers (default 1)."""
    return int(((values.get("modelServer") or {}).get("mlserver") or {}).get("parallelWorkers", 1))


class NotRunning(MlpError):
    """No local platform in this state directory (exit 1: there is nothing to stop or probe)."""

    def __init__(self, state: StateDir):
        super().__init__(f"no local platform in {state.root}: it has no {state.processes_file.name} "
                         f"(start one with `mlp local up --state-dir {state.root}`, or give the --state-dir "
                         "it was started with)")


def _refuse_if_running(state: StateDir) -> None:
    running = [record.name for record in _records(state) if supervisor.is_ours(record)]
    if running:
        raise ConfigError(f"a local platform already runs in {state.root} ({', '.join(running)}): "
                          f"stop it with `mlp local down --state-dir {state.root}` first, or use another --state-dir")


def _clear(state: StateDir) -> None:
    """Remove the files of a previous run (S3 lived in moto's memory, so nothing there survives it)."""
    for path in (state.endpoints_file, state.processes_file):
        path.unlink(missing_ok=True)
    names = [name for component in CATALOGUE for name, _ in component.launchers]
    for directory in [state.logs, *(state.workdir(name) for name in names)]:
        shutil.rmtree(directory, ignore_errors=True)


def _plan(launch: Launch, selected: tuple[str, ...], report: Report) -> dict[str, str]:
    """Plan every process of the selected components; returns the ones that cannot start, with why."""
    unavailable: dict[str, str] = {}
    for component in with_requirements(selected):
        for name, launcher in component.launchers:
            try:
                planned = launcher(launch)
            except (MissingBinary, Unavailable) as error:
                unavailable[name] = str(error)
                report(f"{name}: not started: {error}")
                continue
            launch.planned[name] = planned
            if name == s3.NAME:
                launch.env.update(s3.client_env(planned.url))
    if prometheus.NAME in launch.planned and (notice := prometheus.rules_notice()):
        report(notice)
    return unavailable


def _start(state: StateDir, launch: Launch, unavailable: dict[str, str]) -> list[ProcessRecord]:
    records = []
    for planned in launch.planned.values():
        spec = replace(planned.spec, env={**launch.env, **planned.spec.env})
        records.append(supervisor.spawn(spec, state.log(planned.name), marker_root=state.root))
        # Recorded at once, so `down` can stop them even if this process dies now.
        state.write_processes([record.to_dict() for record in records], unavailable)
    return records


def _wait_healthy(records: list[ProcessRecord], launch: Launch, timeout: float, report: Report) -> None:
    started = time.monotonic()
    failed = threading.Event()
    with ThreadPoolExecutor(max_workers=max(len(records), 1)) as pool:
        waits = {pool.submit(supervisor.wait_healthy, record, timeout, failed): record for record in records}
        for done in as_completed(waits):
            if done.exception() is not None:
                failed.set()          # the other waits end now
                raise done.exception()
            name = waits[done].name
            report(f"{name}: healthy at {launch.planned[name].url} ({time.monotonic() - started:.1f}s)")


def _endpoints(state: StateDir, launch: Launch) -> Endpoints:
    extra = {"state_dir": str(state.root),
             "prometheus": {"scrape_interval_seconds": launch.scrape_interval}}
    if s3.NAME in launch.planned:
        extra["s3"] = dict(s3.CREDENTIALS)
        extra["buckets"] = s3.create_buckets(launch.planned[s3.NAME].url)
    if nginx.NAME in launch.planned:
        extra["access_log"] = str(state.logs / nginx.ACCESS_LOG)
    if server := _kube_api_server(launch):
        extra["kubeconfig"] = str(write_kubeconfig(state.root / "kubeconfig", server))
    services = {name: planned.url for name, planned in launch.planned.items()}
    return Endpoints(services=services, platform="local", release="local", extra=extra)


def _kube_api_server(launch: Launch) -> str | None:
    """The one server of local mode's kubeconfig, for Katib's SDK, the training SDK and kubectl: the tuning
    service, which forwards the training operator's paths to it (mlplatform.kubeapi.passthrough), or the
    training operator alone."""
    for name in (TUNING, TRAINING):
        if name in launch.planned:
            return launch.planned[name].url
    return None


def _records(state: StateDir) -> list[ProcessRecord]:
    return [ProcessRecord.from_dict(entry) for entry in state.read_processes().get("processes", [])]


def status(state_dir: Path | str) -> list[ProcessStatus]:
    """Every process local mode started (probed in parallel), then the components it could not start.
    NotRunning when the directory holds no platform."""
    state = StateDir.at(state_dir)
    if not state.processes_file.exists():
        raise NotRunning(state)
    records = _records(state)
    with ThreadPoolExecutor(max_workers=max(len(records), 1)) as pool:
        reasons = list(pool.map(supervisor.probe, records))
    statuses = [_status(record, reason) for record, reason in zip(records, reasons)]
    for name, reason in state.read_processes().get("unavailable", {}).items():
        statuses.append(ProcessStatus(name=name, pid=None, state="not started", detail=reason, log=None))
    return statuses


def _status(record: ProcessRecord, reason: str | None) -> ProcessStatus:
    if reason is None:
        return ProcessStatus(record.name, record.pid, "healthy", record.health_url, record.log)
    state = "exited" if reason == "exited" else "unhealthy"
    detail = f"{reason}; log ends with: {supervisor.log_tail(record.log, 1)}" if state == "exited" else reason
    return ProcessStatus(record.name, record.pid, state, detail, record.log)


def down(state_dir: Path | str, grace: float = 10.0, report: Report = lambda line: None) -> list[int]:
    """Stop every process of the platform; returns the pids that needed SIGKILL. NotRunning when the
    directory holds no platform."""
    state = StateDir.at(state_dir)
    if not state.processes_file.exists():
        raise NotRunning(state)
    records = _records(state)
    report(f"stopping {len(records)} processes of the local platform in {state.root}…")
    killed = supervisor.stop_all(state.root, records, grace=grace)
    state.endpoints_file.unlink(missing_ok=True)
    state.processes_file.unlink(missing_ok=True)
    return killed


def stop_process(state_dir: Path | str, name: str, grace: float = 10.0) -> None:
    """Stop one process of a running platform (a fault to inject: Prometheus gone mid-analysis)."""
    state = StateDir.at(state_dir)
    records = {record.name: record for record in _records(state)}
    if name not in records:
        raise ConfigError(f"no process {name!r} in {state.processes_file} (have: {', '.join(records) or 'none'})")
    supervisor.stop_one(records[name], grace=grace)
