"""`mlp serve pipelines|tuning` as a subprocess on a free port, for the tests and the benches.

Its SQLite database and runner state live in `workdir`, so a `start()` after `stop()` or `kill()` is
the same service restarted: same port, same state, and its log goes on in the same file.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from mlplatform.net import free_port, wait_for_http

MLP = Path(sys.executable).parent / "mlp"


class ServiceProcess:
    def __init__(self, service: str, workdir: Path, *, max_parallel: int = 4, env: dict | None = None,
                 args: list[str] | tuple[str, ...] = (), cwd: Path | None = None):
        self.service = service
        self.workdir = Path(workdir)
        self.max_parallel = max_parallel
        self.env = {**os.environ, **(env or {})}
        self.args = list(args)
        self.cwd = cwd or self.workdir
        self.db = f"sqlite:///{self.workdir / 'state.db'}"
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.workdir / f"{self.service}.log"

    def start(self):
        self.workdir.mkdir(parents=True, exist_ok=True)
        command = [str(MLP), "serve", self.service, "--host", "127.0.0.1", "--port", str(self.port),
                   "--db", self.db, "--state-dir", str(self.workdir / "state"),
                   "--max-parallel", str(self.max_parallel), *self.args]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=self.cwd,
                                            env=self.env, start_new_session=True)
        wait_for_http(f"{self.url}/readyz", timeout=60, what=f"mlp serve {self.service}",
                      ok=lambda response: response.status_code == 200, alive=lambda: self.process.poll() is None)
        return self

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a crash or an evicted pod. Its tasks keep running."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
