"""Process supervision for local mode: start detached processes, probe them, stop them with no orphans.

Each process starts in its own session (so its own process group) and outlives `mlp local up`.
Its record in processes.json keeps the pid and the kernel's start time of that pid, so a reused pid
is never mistaken for ours. Every process also inherits STATE_MARKER; stopping a platform signals
its process groups and then every process that still carries the marker (children that left the
group), SIGTERM first and SIGKILL after a grace period.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import requests

from mlplatform.errors import DependencyError
from mlplatform.local.state import STATE_MARKER


@dataclass(frozen=True)
class ProcessSpec:
    """How to run one process and how to tell it is healthy."""

    name: str
    command: list[str]
    health_url: str
    cwd: Path
    env: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ProcessRecord:
    """A started process, as processes.json keeps it."""

    name: str
    pid: int
    start_ticks: int        # /proc/<pid>/stat starttime: tells our process from a reused pid
    command: list[str]
    log: str
    health_url: str

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> ProcessRecord:
        return cls(**{key: data[key] for key in cls.__dataclass_fields__})


@dataclass(frozen=True)
class ProcInfo:
    pid: int
    pgid: int
    state: str
    start_ticks: int


def proc_info(pid: int) -> ProcInfo | None:
    """The pid's process group, state and start time from /proc; None when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rpartition(")")[2].split()  # after "pid (comm)": state ppid pgrp ... starttime is the 20th
    return ProcInfo(pid=pid, state=fields[0], pgid=int(fields[2]), start_ticks=int(fields[19]))


def live_processes() -> list[ProcInfo]:
    infos = (proc_info(int(entry)) for entry in os.listdir("/proc") if entry.isdigit())
    return [info for info in infos if info is not None and info.state not in ("Z", "X")]


def carries_marker(pid: int, state_root: Path) -> bool:
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return False
    return f"{STATE_MARKER}={state_root}".encode() in environ.split(b"\0")


def platform_processes(state_root: Path, records: list[ProcessRecord]) -> list[ProcInfo]:
    """Every live process of the platform: the recorded process groups and whatever carries the marker."""
    groups = {record.pid for record in records if is_ours(record)}
    return [info for info in live_processes() if info.pgid in groups or carries_marker(info.pid, state_root)]


def is_ours(record: ProcessRecord) -> bool:
    """The recorded process, or a process left in its group, still runs.

    Linux never hands out a pid that is still some group's id, so a pid taken by another process
    means our group is gone.
    """
    info = proc_info(record.pid)
    if info is not None:
        return info.start_ticks == record.start_ticks and info.state not in ("Z", "X")
    return any(other.pgid == record.pid for other in live_processes())


def is_running(record: ProcessRecord) -> bool:
    info = proc_info(record.pid)
    return info is not None and info.start_ticks == record.start_ticks and info.state not in ("Z", "X")


def spawn(spec: ProcessSpec, log: Path, marker_root: Path) -> ProcessRecord:
    log.parent.mkdir(parents=True, exist_ok=True)
    spec.cwd.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **spec.env, STATE_MARKER: str(marker_root)}
    with log.open("wb") as output:
        process = subprocess.Popen(spec.command, cwd=spec.cwd, env=env, stdin=subprocess.DEVNULL,
                                   stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    info = proc_info(process.pid)
    return ProcessRecord(name=spec.name, pid=process.pid, start_ticks=info.start_ticks if info else 0,
                         command=spec.command, log=str(log), health_url=spec.health_url)


def probe(record: ProcessRecord, timeout: float = 2.0) -> str | None:
    """None when the process runs and its health URL answers 200; otherwise why not."""
    if not is_running(record):
        return "exited"
    try:
        response = requests.get(record.health_url, timeout=timeout)
    except requests.RequestException as error:
        return f"no answer ({type(error).__name__})"
    return None if response.status_code == 200 else f"HTTP {response.status_code}"


def wait_healthy(record: ProcessRecord, timeout: float, cancel: threading.Event | None = None) -> None:
    """Wait until `record` is healthy; DependencyError with the end of its log when it dies or times out.
    Setting `cancel` (another process failed) ends the wait early."""
    cancel = cancel or threading.Event()
    deadline = time.monotonic() + timeout
    while (reason := probe(record, timeout=1.0)) is not None:
        if reason == "exited" or time.monotonic() > deadline:
            cause = "exited" if reason == "exited" else f"not healthy after {timeout:g}s ({reason})"
            raise DependencyError(f"{record.name} {cause}; {record.log} ends with: {log_tail(record.log)}")
        if cancel.wait(0.2):
            return


def log_tail(path: str, lines: int = 3) -> str:
    try:
        text = Path(path).read_text(errors="replace").strip().splitlines()
    except OSError:
        return "(no log)"
    return " | ".join(line.strip()[:300] for line in text[-lines:]) or "(empty log)"


def stop_all(state_root: Path, records: list[ProcessRecord], grace: float = 10.0) -> list[int]:
    """SIGTERM every process of the platform, SIGKILL what is left after `grace`; the pids killed."""
    groups = {record.pid for record in records if is_ours(record)}
    for pgid in groups:
        _signal_group(pgid, signal.SIGTERM)
    for info in platform_processes(state_root, records):
        if info.pgid not in groups:   # left its group: signalled on its own
            _signal(info.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while (left := platform_processes(state_root, records)) and time.monotonic() < deadline:
        time.sleep(0.1)
    for info in left:
        _signal(info.pid, signal.SIGKILL)
    deadline = time.monotonic() + 5.0   # SIGKILL cannot be refused; this only waits for the kernel
    while platform_processes(state_root, records) and time.monotonic() < deadline:
        time.sleep(0.05)
    return [info.pid for info in left]


def stop_one(record: ProcessRecord, grace: float = 10.0) -> None:
    """Stop one process and its group (a fault injected into a running platform)."""
    if not is_ours(record):
        return
    _signal_group(record.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while is_ours(record) and time.monotonic() < deadline:
        time.sleep(0.1)
    if is_ours(record):
        _signal_group(record.pid, signal.SIGKILL)


def _signal_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def _signal(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except (ProcessLookupError, PermissionError):
        pass
