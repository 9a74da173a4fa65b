"""The local runner: each task is a subprocess, taking slots out of `max_parallel` (default: the CPUs).

A task takes as many slots as its CPU request asks for (`set_cpu_request('2')` takes 2, '500m' or
none takes 1); a request beyond every slot is capped to all of them, with a line in its log. Tasks get
their slots in the order they were queued, so a large one is not starved by small ones behind it.

Every task has a directory `<state_dir>/<name>/` holding:
  spec.json     what was asked
  output.log    stdout and stderr together
  pid           the process group leader: "<pid> <start time in clock ticks>", so a reused pid is not mistaken for it
  exit_code     written by the task's shell wrapper when the command ends
  cancelled     present when the task was cancelled
  tmp/          the task's private temporary directory (TMPDIR, TMP and TEMP point at it)

A task runs in its own directory (unless its spec names another) with that private TMPDIR. With
`ProcessLimits`, util-linux `prlimit` caps its address space, open files, processes and CPU time.
This is a convenience that keeps a runaway trial from hurting the machine: it is NOT a security
boundary. The task runs as the service's user and can read and write what the service can. The
Kubernetes runner is the boundary (a Pod per task, its own ServiceAccount, namespace and limits).

A small shell wrapper records the exit code, so a task started by a runner that has since died still
reports its real result to the next runner that opens the same state directory.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import queue
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from mlplatform.runners.base import Runner, TaskNotFound, TaskSpec, TaskState, TaskStatus

# `sh -c WRAPPER sh <argv...>`: run argv, then record its exit code atomically.
_WRAPPER = '"$@"; code=$?; echo $code > "$MLP_TASK_DIR/exit_code.tmp"; mv "$MLP_TASK_DIR/exit_code.tmp" "$MLP_TASK_DIR/exit_code"; exit $code'
_KILL_GRACE_SECONDS = 5.0
_POLL_SECONDS = 0.05


@dataclass(frozen=True)
class ProcessLimits:
    """Resource limits for each local task (setrlimit through `prlimit`); None leaves a limit as it is."""

    address_space_bytes: int | None = None
    open_files: int | None = None
    processes: int | None = None
    cpu_seconds: int | None = None

    def command_prefix(self) -> list[str]:
        flags = [f"--{flag}={value}" for flag, value in (
            ("as", self.address_space_bytes), ("nofile", self.open_files), ("nproc", self.processes),
            ("cpu", self.cpu_seconds)) if value is not None]
        if not flags:
            return []
        prlimit = shutil.which("prlimit")
        if prlimit is None:
            raise ValueError("local task limits need util-linux's prlimit on PATH (apt-get install util-linux)")
        return [prlimit, *flags, "--"]


class LocalRunner(Runner):
    kind = "local"

    def __init__(self, state_dir: str | Path, max_parallel: int | None = 4, limits: ProcessLimits | None = None):
        max_parallel = max_parallel or os.cpu_count() or 1
        if max_parallel < 1:
            raise ValueError("max_parallel must be at least 1")
        if not Path(state_dir).is_absolute():   # tasks run in their own directories (DESIGN §10, Paths)
            raise ValueError(f"the local runner's state_dir must be absolute, not {state_dir}")
        self.state_dir = Path(state_dir)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.max_parallel = max_parallel
        self._limit_prefix = (limits or ProcessLimits()).command_prefix()
        self._queue: queue.Queue[TaskSpec | None] = queue.Queue()
        self._lock = threading.Lock()
        self._processes: dict[str, subprocess.Popen] = {}
        self._done: dict[str, threading.Event] = {}
        self._slots = _Slots(max_parallel)
        self._workers = [
            threading.Thread(target=self._work, name=f"local-runner-{i}", daemon=True) for i in range(max_parallel)
        ]
        for worker in self._workers:
            worker.start()

    # --- the interface -------------------------------------------------------------------------

    def start(self, spec: TaskSpec) -> None:
        directory = self._dir(spec.name)
        cpu_slots(spec.resources.cpu_request if spec.resources else None)  # a bad quantity fails here, named
        with self._lock:
            if directory.exists():
                raise ValueError(f"task {spec.name} already exists")
            directory.mkdir(parents=True)
            (directory / "spec.json").write_text(json.dumps(asdict(spec)))
            self._done[spec.name] = threading.Event()
        self._queue.put(spec)

    def status(self, name: str) -> TaskStatus:
        directory = self._dir(name)
        if not (directory / "spec.json").exists():
            raise TaskNotFound(name)
        started = _mtime(directory / "pid")
        if (directory / "cancelled").exists():
            return TaskStatus(TaskState.CANCELLED, reason="Cancelled", message="cancelled",
                              started_at=started, finished_at=_mtime(directory / "cancelled"))
        if (directory / "deadline").exists():
            return TaskStatus(TaskState.FAILED, reason="DeadlineExceeded",
                              message=(directory / "deadline").read_text().strip(),
                              started_at=started, finished_at=_mtime(directory / "deadline"))
        exit_code = _read_int(directory / "exit_code")
        if exit_code is not None:
            succeeded = exit_code == 0
            return TaskStatus(
                TaskState.SUCCEEDED if succeeded else TaskState.FAILED,
                exit_code=exit_code,
                reason="Completed" if succeeded else "Error",
                message="" if succeeded else f"exited with code {exit_code}",
                started_at=started,
                finished_at=_mtime(directory / "exit_code"),
            )
        identity = _read_identity(directory / "pid")
        if identity is None:
            if name in self._done:
                return TaskStatus(TaskState.PENDING)
            return TaskStatus(TaskState.FAILED, reason="Lost", message="the runner stopped before the task started")
        if name in self._processes or _alive(*identity):
            return TaskStatus(TaskState.RUNNING, started_at=started)
        return TaskStatus(TaskState.FAILED, reason="Lost", started_at=started,
                          message="the process ended without recording an exit code (killed or the runner died)")

    def wait(self, name: str, timeout: float | None = None) -> TaskStatus:
        deadline = None if timeout is None else time.monotonic() + timeout
        event = self._done.get(name)
        if event is not None:
            event.wait(timeout)
            return self.status(name)
        while True:  # a task this runner did not start (re-attached after a restart): poll
            current = self.status(name)
            if current.state.finished or (deadline is not None and time.monotonic() >= deadline):
                return current
            time.sleep(_POLL_SECONDS)

    def logs(self, name: str) -> str:
        log = self._dir(name) / "output.log"
        if not (self._dir(name) / "spec.json").exists():
            raise TaskNotFound(name)
        return log.read_text(errors="replace") if log.exists() else ""

    def cancel(self, name: str) -> None:
        directory = self._dir(name)
        if self.status(name).state.finished:
            return
        (directory / "cancelled").touch()
        self._terminate(name)
        event = self._done.get(name)
        if event is not None and _read_identity(directory / "pid") is None:
            event.set()  # cancelled while still queued

    def delete(self, name: str) -> None:
        if not self.status(name).state.finished:
            self.cancel(name)
        with self._lock:
            self._done.pop(name, None)
        shutil.rmtree(self._dir(name), ignore_errors=True)

    def names(self) -> list[str]:
        return sorted(path.parent.name for path in self.state_dir.glob("*/spec.json"))

    def queue_depth(self) -> int:
        return self._queue.qsize()

    def close(self) -> None:
        for _ in self._workers:
            self._queue.put(None)

    # --- execution -----------------------------------------------------------------------------

    def _dir(self, name: str) -> Path:
        return self.state_dir / name

    def _work(self) -> None:
        while True:
            spec = self._queue.get()
            if spec is None:
                return
            try:
                if self._wanted(spec):
                    with self._slots.taken(self._slots_for(spec)):
                        if self._wanted(spec):  # not cancelled or deleted while it waited for slots
                            self._run(spec)
            finally:
                event = self._done.get(spec.name)
                if event is not None:
                    event.set()

    def _wanted(self, spec: TaskSpec) -> bool:
        return not (self._dir(spec.name) / "cancelled").exists() and self._dir(spec.name).exists()

    def _slots_for(self, spec: TaskSpec) -> int:
        """The slots the task's CPU request asks for, capped (with a line in its log) to all of them."""
        request = spec.resources.cpu_request if spec.resources else None
        wanted = cpu_slots(request)
        if wanted <= self.max_parallel:
            return wanted
        with contextlib.suppress(FileNotFoundError), open(self._dir(spec.name) / "output.log", "a") as log:
            log.write(f"mlplatform: the CPU request {request} asks for {wanted} slots but the local runner has "
                      f"{self.max_parallel}; it runs with all {self.max_parallel}\n")
        return self.max_parallel

    def _run(self, spec: TaskSpec) -> None:
        directory = self._dir(spec.name)
        private_tmp = directory / "tmp"
        private_tmp.mkdir(mode=0o700, exist_ok=True)
        env = {**os.environ, **spec.env, "MLP_TASK_DIR": str(directory),
               "TMPDIR": str(private_tmp), "TMP": str(private_tmp), "TEMP": str(private_tmp)}
        with open(directory / "output.log", "ab") as output:
            try:
                process = subprocess.Popen(
                    [*self._limit_prefix, "/bin/sh", "-c", _WRAPPER, "sh", *spec.command],
                    cwd=spec.workdir or directory,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=output,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # its own process group: survives us, and is killed as one
                )
            except OSError as error:  # e.g. a workdir that does not exist
                output.write(f"mlplatform: cannot start task: {error}\n".encode())
                (directory / "exit_code").write_text("127\n")
                return
        try:
            (directory / "pid").write_text(f"{process.pid} {_start_time(process.pid)}")
        except FileNotFoundError:  # deleted while it was starting: nobody wants it any more
            _signal_group(process.pid, signal.SIGKILL)
            process.wait()
            return
        with self._lock:
            self._processes[spec.name] = process
        if (directory / "cancelled").exists():  # cancelled while it was starting, before its pid was known
            self._terminate(spec.name)
        try:
            process.wait(timeout=spec.timeout_seconds)
        except subprocess.TimeoutExpired:
            (directory / "deadline").write_text(f"exceeded its deadline of {spec.timeout_seconds:g}s\n")
            self._terminate(spec.name)
            process.wait()
        finally:
            with self._lock:
                self._processes.pop(spec.name, None)

    def _terminate(self, name: str) -> None:
        identity = _read_identity(self._dir(name) / "pid")
        if identity is None or not _alive(*identity):
            return
        pid = identity[0]
        _signal_group(pid, signal.SIGTERM)
        deadline = time.monotonic() + _KILL_GRACE_SECONDS
        while _alive(*identity) and time.monotonic() < deadline:
            time.sleep(_POLL_SECONDS)
        _signal_group(pid, signal.SIGKILL)


def cpu_slots(request: str | None) -> int:
    """Slots for a Kubernetes CPU quantity: whole CPUs rounded up, at least one ('500m' -> 1, '2' -> 2)."""
    if not request:
        return 1
    text = str(request).strip()
    try:
        cpus = float(text[:-1]) / 1000 if text.endswith("m") else float(text)
    except ValueError:
        raise ValueError(f"CPU request {request!r} is not a CPU quantity (like '2', '1.5' or '500m')") from None
    return max(1, math.ceil(cpus - 1e-9))


class _Slots:
    """A counting gate whose waiters are served in arrival order."""

    def __init__(self, total: int):
        self._free = total
        self._condition = threading.Condition()
        self._turn = threading.Lock()  # the one waiter at the head of the line

    @contextlib.contextmanager
    def taken(self, count: int):
        with self._turn, self._condition:
            self._condition.wait_for(lambda: self._free >= count)
            self._free -= count
        try:
            yield
        finally:
            with self._condition:
                self._free += count
                self._condition.notify_all()


def _read_int(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def _mtime(path: Path) -> float | None:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return None


def _read_identity(path: Path) -> tuple[int, str] | None:
    try:
        pid, start_time = path.read_text().split()
        return int(pid), start_time
    except (FileNotFoundError, ValueError):
        return None


def _proc_stat(pid: int) -> list[str] | None:
    """Fields of /proc/<pid>/stat after the command name (field 3 onwards)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[-1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None


def _start_time(pid: int) -> str:
    fields = _proc_stat(pid)
    return fields[19] if fields else "0"


def _alive(pid: int, start_time: str) -> bool:
    """The process still runs and is the one we started (a zombie, or a reused pid, is not)."""
    fields = _proc_stat(pid)
    return fields is not None and fields[0] != "Z" and fields[19] == start_time


def _signal_group(pid: int, signum: int) -> None:
    try:
        os.killpg(pid, signum)
    except (ProcessLookupError, PermissionError):
        pass
