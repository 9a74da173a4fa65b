"""An MLflow server a test starts and stops itself (the registry-down-then-up fault); everything else
uses local mode's `local_platform`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from mlplatform.net import free_port, wait_for_http

VENV_BIN = Path(sys.executable).parent


@dataclass
class ServerProcess:
    """A server started as a child process; `stop()` and `start()` again on the same port."""

    name: str
    command: list[str]
    url: str
    health_path: str
    log: Path
    env: dict = field(default_factory=dict)
    process: subprocess.Popen | None = None

    def start(self, wait: bool = True, timeout: float = 60) -> ServerProcess:
        handle = self.log.open("ab")
        self.process = subprocess.Popen(self.command, stdout=handle, stderr=subprocess.STDOUT,
                                        env={**os.environ, **self.env}, start_new_session=True)
        if wait:
            self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float = 60) -> None:
        wait_for_http(self.url + self.health_path, timeout=timeout, what=self.name,
                      ok=lambda response: response.status_code == 200,
                      alive=lambda: self.process is not None and self.process.poll() is None)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)  # the whole group: mlflow forks its workers
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def mlflow_server(state_dir: Path) -> ServerProcess:
    """An MLflow tracking server with a SQLite store in `state_dir` (not started)."""
    state_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    return ServerProcess(
        name="mlflow",
        command=[str(VENV_BIN / "mlflow"), "server", "--host", "127.0.0.1", "--port", str(port),
                 "--backend-store-uri", f"sqlite:///{state_dir / 'mlflow.db'}",
                 "--default-artifact-root", str(state_dir / "artifacts"), "--workers", "1"],
        url=f"http://127.0.0.1:{port}",
        health_path="/health",
        log=state_dir / "mlflow.log",
    )
